import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileFollower } from '../../src/sources/follow-file.js';

// Reads of an open log that fail (a disk error): readSync throws this message while it is set.
const reads = vi.hoisted(() => ({ failing: undefined as string | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, readSync: (...args: Parameters<typeof actual.readSync>): number => {
    if (reads.failing !== undefined) throw new Error(reads.failing);
    return actual.readSync(...args);
  } };
});

const dirs: string[] = [];
afterEach(() => {
  reads.failing = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a log whose reads fail', () => {
  // Checked every 500 ms: an error said at each check would flood the daemon's log.
  it('says an error once until it changes, and once that reading works again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-follow-'));
    dirs.push(dir);
    const path = join(dir, 'kern.log');
    writeFileSync(path, 'a\n');
    const notices: string[] = [];
    const lines: string[] = [];
    const follower = new FileFollower(path, { clock: { now: () => 0 }, pollInterval: 60_000, onLines: (got) => lines.push(...got),
      onNotice: (notice) => notices.push(notice.type === 'error' ? `error: ${notice.message}` : notice.type) });
    follower.start();
    appendFileSync(path, 'b\n');
    for (const failing of ['EIO: i/o error, read', 'EIO: i/o error, read', 'EIO: i/o error, read', 'ESTALE: stale file handle, read', undefined, undefined, 'EIO: i/o error, read']) {
      reads.failing = failing;
      follower.check();
    }
    follower.stop();
    expect(notices).toEqual(['started-at-end', 'error: EIO: i/o error, read', 'error: ESTALE: stale file handle, read', 'readable', 'error: EIO: i/o error, read']);
    expect(lines).toEqual(['b']);
  });
});
