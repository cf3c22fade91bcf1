import { appendFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSource } from '../../src/sources/file-source.js';
import type { FollowNotice } from '../../src/sources/follow-file.js';

const sources: FileSource[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const source of sources.splice(0)) source.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(initial: string): { path: string; lines: string[]; notices: FollowNotice[]; setTime: (t: number) => void; source: FileSource } {
  const dir = mkdtempSync(join(tmpdir(), 'kw-source-'));
  dirs.push(dir);
  const path = join(dir, 'kern.log');
  writeFileSync(path, initial);
  let now = 1000;
  const lines: string[] = [];
  const notices: FollowNotice[] = [];
  const source = new FileSource(path, { clock: { now: () => now }, pollInterval: 60_000, onLines: (got) => lines.push(...got), onNotice: (notice) => notices.push(notice) });
  sources.push(source);
  return { path, lines, notices, setTime: (t) => { now = t; }, source };
}

describe('a file as a line source', () => {
  it('tells its position, what waits unread, and when it last handed out a line', () => {
    const s = setup('old\n');
    expect(s.source.position()).toBeUndefined();
    s.source.start(undefined);
    expect(s.source.lag()).toBe(0);
    expect(s.source.lastLineAt).toBeUndefined();
    appendFileSync(s.path, 'one\ntwo\n');
    expect(s.source.lag()).toBe(8);
    s.setTime(2000);
    s.source.check();
    expect(s.lines).toEqual(['one', 'two']);
    expect(s.source.lastLineAt).toBe(2000);
    expect(s.source.lag()).toBe(0);
    expect(s.source.position()?.offset).toBe(12);
    expect(s.source.kind).toBe('file');
    expect(s.source.name).toBe(s.path);
  });

  it('counts a new file that replaced the followed one as unread', () => {
    const s = setup('');
    s.source.start(undefined);
    renameSync(s.path, `${s.path}.1`);
    writeFileSync(s.path, 'new file\n');
    expect(s.source.lag()).toBe(9);
  });

  it('resumes at a saved position', () => {
    const s = setup('a\nb\n');
    const stat = statSync(s.path);
    s.source.start({ dev: stat.dev, ino: stat.ino, offset: 2, firstLineHash: '' });
    expect(s.lines).toEqual(['b']);
    expect(s.notices).toEqual([{ type: 'resumed', offset: 2 }]);
  });

  it('says "there again" only for a file it was reading before', () => {
    const s = setup('');
    rmSync(s.path);
    s.source.start(undefined);
    writeFileSync(s.path, 'first\n');
    s.source.check();
    rmSync(s.path);
    s.source.check();
    writeFileSync(s.path, 'second\n');
    s.source.check();
    expect(s.notices).toEqual([
      { type: 'missing', followed: false },
      { type: 'appeared', again: false },
      { type: 'missing', followed: true },
      { type: 'appeared', again: true },
    ]);
    expect(s.lines).toEqual(['first', 'second']);
  });
});
