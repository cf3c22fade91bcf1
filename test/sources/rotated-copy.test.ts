import { execFileSync } from 'node:child_process';
import { closeSync, linkSync, mkdtempSync, readSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findRotatedCopy } from '../../src/sources/rotated-copy.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// A file next to the log: its content (written with a modification time that grows in the
// order listed), or how to make it.
type Other = [string, string | ((path: string, log: string) => void)];

// What findRotatedCopy picks next to a log `kern.log` read to byte 4, when a file fits if it
// begins with "a\n".
function pick(others: Other[]): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'kw-copy-'));
  dirs.push(dir);
  const log = join(dir, 'kern.log');
  writeFileSync(log, 'a\nb\n');
  let modified = 1_700_000_000;
  for (const [name, make] of others) {
    const path = join(dir, name);
    if (typeof make === 'string') {
      writeFileSync(path, make);
      utimesSync(path, modified, modified += 60);
    } else {
      make(path, log);
    }
  }
  const beginsWithA = (fd: number): boolean => {
    const start = Buffer.alloc(2);
    return readSync(fd, start, 0, 2, 0) === 2 && start.toString() === 'a\n';
  };
  const copy = findRotatedCopy(log, statSync(log), 4, beginsWithA);
  if (copy !== undefined) closeSync(copy.fd);
  return copy?.name;
}

const dated = (day: number, content = 'x\n'): Other => [`kern.log-202611${String(day).padStart(2, '0')}`, content];

describe('finding the copy copytruncate made', () => {
  it.each<[string, Other[], string | undefined]>([
    // the names logrotate gives the newest rotation
    ['.1', [['kern.log.1', 'a\nb\n']], 'kern.log.1'],
    ['dateext', [['kern.log-20261122', 'a\nb\n']], 'kern.log-20261122'],
    ['dateext with the hour and epoch seconds', [['kern.log-2026112209-1795338000', 'a\nb\n']], 'kern.log-2026112209-1795338000'],
    // names that are no copy to read
    ['compressed', [['kern.log.1.gz', 'a\nb\n']], undefined],
    ['an older numbered rotation', [['kern.log.2', 'a\nb\n']], undefined],
    ['another log\'s rotation', [['kern.log2.1', 'a\nb\n'], ['auth.log.1', 'a\nb\n']], undefined],
    // files that are no copy
    ['the log itself under a rotation name (a hard link)', [['kern.log.1', (path, log) => linkSync(log, path)]], undefined],
    ['a symbolic link', [['kern.log.1', (path, log) => symlinkSync(log, path)]], undefined],
    ['a FIFO (opening it would wait for a writer)', [['kern.log.1', (path) => execFileSync('mkfifo', [path])]], undefined],
    ['one shorter than what was read', [['kern.log.1', 'a\nb']], undefined],
    // exactly one must fit
    ['one of several that fits', [dated(20), ['kern.log.1', 'a\nb\n'], dated(21)], 'kern.log.1'],
    ['two that fit', [['kern.log.1', 'a\nb\n'], ['kern.log-20261122', 'a\nb\n']], undefined],
    // only the eight most recently modified rotation names are looked at
    ['the copy older than seven others', [dated(1, 'a\nb\n'), ...[2, 3, 4, 5, 6, 7, 8].map((day) => dated(day))], 'kern.log-20261101'],
    ['the copy older than eight others', [dated(1, 'a\nb\n'), ...[2, 3, 4, 5, 6, 7, 8, 9].map((day) => dated(day))], undefined],
  ])('%s', (_name, others, expected) => {
    expect(pick(others)).toBe(expected);
  });
});
