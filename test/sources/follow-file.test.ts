import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileFollower, type FollowNotice, type LogPosition } from '../../src/sources/follow-file.js';

// A script of file actions; `check` makes the follower read what is there now (the watch
// events only make it call the same thing sooner), `restart` stops it and starts a new one
// from the saved position, as the daemon does across a restart. `copytruncate` copies to the
// name given (after the log's own name) or to the next `.N`; `other` writes another file next
// to the log (an older rotation, a second copy).
type Action =
  | ['write', string]
  | ['rotate']
  | ['copytruncate', string?]
  | ['other', string, string]
  | ['cut', number]
  | ['delete']
  | ['move-away']
  | ['move-back']
  | ['create', string?]
  | ['replace', string]
  | ['check']
  | ['restart']
  | ['stop']
  | ['start']
  | ['advance', number];

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

// `kern.log` in a new temporary directory (not created).
function logPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-follow-'));
  dirs.push(dir);
  return join(dir, 'kern.log');
}

function play(initial: string | undefined, actions: Action[], notices: FollowNotice[] = []): string[] {
  const path = logPath();
  if (initial !== undefined) writeFileSync(path, initial);
  const out: string[] = [];
  let now = 0;
  const clock = { now: () => now };
  const follow = (resume?: LogPosition) => {
    const follower = new FileFollower(path, { resume, onLines: (lines) => out.push(...lines), onNotice: (notice) => notices.push(notice), clock, pollInterval: 60_000 });
    follower.start();
    return follower;
  };
  let follower = follow();
  let rotation = 0;
  let saved: LogPosition | undefined;
  try {
    for (const action of actions) {
      switch (action[0]) {
        case 'write': appendFileSync(path, action[1]); break;
        case 'rotate': renameSync(path, `${path}.${++rotation}`); writeFileSync(path, ''); break;
        case 'copytruncate': copyFileSync(path, `${path}${action[1] ?? `.${++rotation}`}`); truncateSync(path, 0); break;
        case 'other': writeFileSync(`${path}${action[1]}`, action[2]); break;
        case 'cut': truncateSync(path, action[1]); break;
        case 'delete': unlinkSync(path); break;
        case 'move-away': renameSync(path, `${path}.away`); break;
        case 'move-back': renameSync(`${path}.away`, path); break;
        case 'create': writeFileSync(path, action[1] ?? ''); break;
        case 'replace': { const tmp = `${path}.new`; writeFileSync(tmp, action[1]); renameSync(tmp, path); break; }
        case 'check': follower.check(); break;
        case 'advance': now += action[1]; break;
        case 'restart': {
          follower.check();
          const position = follower.position();
          follower.stop();
          follower = follow(position);
          break;
        }
        case 'stop':
          follower.check();
          saved = follower.position();
          follower.stop();
          break;
        case 'start':
          follower = follow(saved);
          break;
      }
    }
    follower.check();
  } finally {
    follower.stop();
  }
  return out;
}

describe('following a log', () => {
  it.each<[string, string | undefined, Action[], string[]]>([
    // start
    ['starts at the end of an existing file', 'old 1\nold 2\n',
      [['write', 'new 1\n'], ['check']], ['new 1']],
    ['waits for a file that does not exist yet', undefined,
      [['check'], ['create', 'first\n'], ['check'], ['write', 'second\n']], ['first', 'second']],
    // partial lines
    ['holds a partial line until its newline', '',
      [['write', 'par'], ['check'], ['write', 'tial\nnext'], ['check'], ['write', '\n']], ['partial', 'next']],
    // rename-and-create rotation, with the logger writing to the old file once more
    ['follows rename-and-create rotation', '',
      [['write', 'a\n'], ['check'], ['write', 'b\n'], ['rotate'], ['write', 'c\n'], ['check'], ['write', 'd\n']], ['a', 'b', 'c', 'd']],
    ['reads what the logger still wrote to the rotated file', '',
      [['write', 'a\n'], ['check'], ['rotate'], ['check'], ['write', 'new\n']].concat([]) as Action[], ['a', 'new']],
    ['reads a last line without newline from the rotated file', '',
      [['write', 'a\nlast'], ['check'], ['rotate'], ['write', 'c\n'], ['check'], ['advance', 10_000], ['check']], ['a', 'c', 'last']],
    // copytruncate
    ['follows copytruncate', '',
      [['write', 'a\nb\n'], ['check'], ['copytruncate'], ['write', 'c\n'], ['check'], ['write', 'd\n']], ['a', 'b', 'c', 'd']],
    // delete and recreate
    ['follows delete-and-recreate', '',
      [['write', 'a\n'], ['check'], ['delete'], ['check'], ['create', 'b\n'], ['check'], ['write', 'c\n']], ['a', 'b', 'c']],
    // the same file moved away and back (its inode): it goes on where it was, never from its start
    ['goes on where it was in a file moved away and back', '',
      [['write', 'a\nb\n'], ['check'], ['move-away'], ['check'], ['move-back'], ['write', 'c\n'], ['check'], ['write', 'd\n']], ['a', 'b', 'c', 'd']],
    ['keeps going after several rotations in a row', '',
      [['write', '1\n'], ['rotate'], ['write', '2\n'], ['check'], ['rotate'], ['write', '3\n'], ['check'], ['copytruncate'], ['write', '4\n']],
      ['1', '2', '3', '4']],
    // restarts
    ['resumes after a restart where it stopped, without repeating', '',
      [['write', 'a\nb\n'], ['restart'], ['write', 'c\n']], ['a', 'b', 'c']],
    ['resumes before a partial line, so the line comes out whole once', '',
      [['write', 'a\nhal'], ['restart'], ['write', 'f\n']], ['a', 'half']],
    // a restart while a line over the limit is still being written: it resumes before that
    // line and drops it whole again, never handing out its tail as a line of its own
    ['resumes before a line too long to keep, so its tail never comes out as a line', '',
      [['write', `a\n${'x'.repeat(70_000)}`], ['restart'], ['write', 'TAIL\nb\n']], ['a', 'b']],
    ['starts at the end when the file was replaced while stopped', 'x\n',
      [['write', 'a\n'], ['stop'], ['replace', 'other\nlines\n'], ['start'], ['write', 'c\n']], ['a', 'c']],
    ['resumes in a file that grew while stopped', '',
      [['write', 'a\n'], ['stop'], ['write', 'b\n'], ['start'], ['write', 'c\n']], ['a', 'b', 'c']],
    // copytruncate racing the logger: what was written after the last read is only in the copy
    ['reads the lines written between its last read and the copy from the copy', '',
      [['write', 'a\n'], ['check'], ['write', 'b\n'], ['copytruncate'], ['write', 'c\n'], ['check'], ['write', 'd\n']], ['a', 'b', 'c', 'd']],
    ['completes a held partial line from the copy and reads its last line without newline', '',
      [['write', 'a\npar'], ['check'], ['write', 'tial\nlast'], ['copytruncate'], ['check'], ['write', 'c\n']], ['a', 'partial', 'last', 'c']],
    ['finds a copy named by dateext', '',
      [['write', 'a\n'], ['check'], ['write', 'b\n'], ['copytruncate', '-20261122'], ['check']], ['a', 'b']],
    ['reads only the one copy that begins as the log, not an older rotation', '',
      [['other', '-20261121', 'old\nlines\nlong gone\n'], ['write', 'a\n'], ['check'], ['write', 'b\n'], ['copytruncate'], ['check']], ['a', 'b']],
    ['never reads a compressed copy', '',
      [['write', 'a\n'], ['check'], ['write', 'b\n'], ['copytruncate', '.1.gz'], ['write', 'c\n'], ['check']], ['a', 'c']],
    ['reads no copy when two fit', '',
      [['write', 'a\n'], ['check'], ['write', 'b\n'], ['other', '-20261122', 'a\nb\n'], ['copytruncate'], ['write', 'c\n'], ['check']], ['a', 'c']],
    ['reads no copy that begins otherwise', '',
      [['write', 'a\n'], ['check'], ['write', 'b\n'], ['other', '.1', 'x\ny\nzzz\n'], ['cut', 0], ['write', 'c\n'], ['check']], ['a', 'c']],
    ['reads no copy shorter than what was read', '',
      [['write', 'a\npa'], ['check'], ['other', '.1', 'a\n'], ['cut', 0], ['write', 'c\n'], ['check']], ['a', 'c']],
    // a first line longer than the 4 KiB hashed: its first 4 KiB tell the log's start
    ['reads the copy of a log whose first line is longer than what is hashed', '',
      [['write', `${'x'.repeat(5000)}\n`], ['check'], ['write', 'b\n'], ['copytruncate'], ['write', 'c\n'], ['check']], ['x'.repeat(5000), 'b', 'c']],
    ['reads no copy that begins otherwise past the first 4 KiB of a long first line', '',
      [['write', `${'x'.repeat(5000)}\n`], ['check'], ['write', 'b\n'], ['other', '.1', `${'y'.repeat(5000)}\nb\n`], ['cut', 0], ['write', 'c\n'], ['check']], ['x'.repeat(5000), 'c']],
    // nothing known of its start yet: a first line still being written, under the 4 KiB
    ['reads no copy of a log whose start it does not know', '',
      [['write', 'xyz'], ['check'], ['write', 'b\n'], ['copytruncate'], ['write', 'c\n'], ['check']], ['c']],
    ['notices copytruncate even when the file grew past the old offset again', '',
      [['write', 'first\n'], ['check'], ['copytruncate'], ['write', 'second line\n'], ['check']], ['first', 'second line']],
    // cut back to a shorter file that begins as before: what is left was read, what follows is new
    ['goes on after a file cut back to a part it read, without reading that part again', '',
      [['write', 'a\nb\nc\n'], ['check'], ['cut', 4], ['check'], ['write', 'd\n']], ['a', 'b', 'c', 'd']],
    ['goes on after a file cut back in the middle of a line it read', '',
      [['write', 'a\nbb\nc\n'], ['check'], ['cut', 3], ['check'], ['write', 'd\n']], ['a', 'bb', 'c', 'd']],
  ])('%s', (_name, initial, actions, expected) => {
    expect(play(initial, actions)).toEqual(expected);
  });

  // The notice says where the lines before the copy came from, or that some may be lost.
  it.each<[string, Action[], FollowNotice[]]>([
    ['read from the copy', [['write', 'a\n'], ['check'], ['write', 'b\n'], ['copytruncate'], ['check']],
      [{ type: 'truncated', offset: 0, copy: 'kern.log.1' }]],
    ['no copy found', [['write', 'a\n'], ['check'], ['write', 'b\n'], ['copytruncate', '.1.gz'], ['check']],
      [{ type: 'truncated', offset: 0, lost: true }]],
    ['cut back to a part read: nothing lost, no copy looked for', [['write', 'a\nb\n'], ['check'], ['other', '.1', 'a\nb\nc\n'], ['cut', 2], ['check']],
      [{ type: 'truncated', offset: 2 }]],
  ])('notices a truncation: %s', (_name, actions, expected) => {
    const notices: FollowNotice[] = [];
    play('', actions, notices);
    expect(notices.filter((notice) => notice.type === 'truncated')).toEqual(expected);
  });

  it('reads a copy to the size it had when found, not what is added to it while it is read', () => {
    const path = logPath();
    writeFileSync(path, '');
    const lines: string[] = [];
    const follower = new FileFollower(path, { clock: { now: () => 0 }, pollInterval: 60_000, onLines: (got) => {
      // More than one read's worth: the copy is read in two, and grows after the first.
      if (lines.length === 1) appendFileSync(`${path}.1`, 'late\n');
      lines.push(...got);
    } });
    follower.start();
    appendFileSync(path, 'a\n');
    follower.check();
    appendFileSync(path, `${'y'.repeat(99)}\n`.repeat(11_000));
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    follower.check();
    follower.stop();
    expect(lines).toEqual(['a', ...Array<string>(11_000).fill('y'.repeat(99))]);
  });

  it('reads a change as soon as the file system reports it', async () => {
    const path = logPath();
    writeFileSync(path, '');
    const lines: string[] = [];
    const arrived = new Promise<void>((resolve) => {
      const follower = new FileFollower(path, { clock: { now: () => 0 }, pollInterval: 60_000, onLines: (got) => {
        lines.push(...got);
        follower.stop();
        resolve();
      } });
      follower.start();
    });
    appendFileSync(path, 'hello\n');
    await arrived;
    expect(lines).toEqual(['hello']);
  });
});

describe('a log that cannot be read', () => {
  it('is reported once and read as soon as it can be', () => {
    // A directory where the log should be: opening it for reading lines fails with EISDIR.
    const path = logPath();
    mkdirSync(path);
    const notices: string[] = [];
    const lines: string[] = [];
    const follower = new FileFollower(path, { clock: { now: () => 0 }, pollInterval: 60_000, onLines: (got) => lines.push(...got), onNotice: (notice) => notices.push(notice.type) });
    follower.start();
    follower.check();
    follower.check();
    expect(notices.filter((type) => type === 'error')).toHaveLength(1);
    rmSync(path, { recursive: true });
    writeFileSync(path, 'first\n');
    follower.check();
    appendFileSync(path, 'second\n');
    follower.check();
    follower.stop();
    expect(lines).toEqual(['first', 'second']);
    expect(notices).toEqual(['error', 'readable']);
  });

  it('is reported again when it comes back after it was gone', () => {
    const path = logPath();
    mkdirSync(path);
    const notices: string[] = [];
    const follower = new FileFollower(path, { clock: { now: () => 0 }, pollInterval: 60_000, onLines: () => {}, onNotice: (notice) => notices.push(notice.type) });
    follower.start();
    rmSync(path, { recursive: true });
    follower.check();
    mkdirSync(path);
    follower.check();
    follower.stop();
    expect(notices).toEqual(['error', 'missing', 'error']);
  });
});

describe('a log whose reads fail', () => {
  // Checked every 500 ms: an error said at each check would flood the daemon's log.
  it('says an error once until it changes, and once that reading works again', () => {
    const path = logPath();
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

describe('a log gone for good', () => {
  // Nothing reads knocks while it is gone and the gate stays up: past the time a rotation
  // takes, that is said as an error, once per absence.
  it('is an error once it stayed away for a minute, said again after it came back and went', () => {
    const path = logPath();
    writeFileSync(path, 'a\n');
    let now = 0;
    const notices: string[] = [];
    const follower = new FileFollower(path, { clock: { now: () => now }, pollInterval: 60_000, onLines: () => {},
      onNotice: (notice) => notices.push(notice.type === 'error' ? `error: ${notice.message}` : notice.type) });
    follower.start();
    unlinkSync(path);
    follower.check();
    for (const step of [30_000, 29_999, 1, 1000, 60_000]) {
      now += step;
      follower.check();
    }
    writeFileSync(path, 'b\n');
    follower.check();
    unlinkSync(path);
    follower.check();
    now += 60_000;
    follower.check();
    follower.stop();
    const gone = 'error: missing for 60 s (no rotation takes that long): nothing is read from it, so no knock in it is seen, until it is there again';
    expect(notices).toEqual(['started-at-end', 'missing', gone, 'appeared', 'missing', gone]);
  });
});

describe('the read buffer', () => {
  it('is allocated once for the follower, not on every check, and a partial line survives its reuse', () => {
    const path = logPath();
    writeFileSync(path, '');
    const lines: string[] = [];
    const follower = new FileFollower(path, { clock: { now: () => 0 }, pollInterval: 60_000, onLines: (got) => lines.push(...got) });
    const allocations = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      follower.start();
      appendFileSync(path, 'one\ntw');
      follower.check();
      appendFileSync(path, 'o\nthree\n');
      follower.check();
      follower.check();
      follower.stop();
      expect(allocations.mock.calls.filter(([size]) => size === 1 << 20)).toHaveLength(1);
    } finally {
      allocations.mockRestore();
    }
    expect(lines).toEqual(['one', 'two', 'three']);
  });
});
