import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Clock } from '../runtime/clock.js';
import { createLineSplitter, type LineSplitter } from './read-lines.js';
import { findRotatedCopy } from './rotated-copy.js';

// Where a follower stands in a file; kept in the state file to resume after a restart.
export interface LogPosition {
  dev: number;
  ino: number;
  offset: number;
  // Hash of the file's first line, so a file replaced in place under the same inode number
  // is not mistaken for the old one.
  firstLineHash: string;
}

export interface FollowOptions {
  // Resume here when it still describes the file; otherwise start at the file's end.
  resume?: LogPosition | undefined;
  onLines: (lines: string[]) => void;
  onNotice?: (notice: FollowNotice) => void;
  // Safety-net poll for missed watch events (ms).
  pollInterval?: number;
  // Host time, for how long a rotated file is still read.
  clock: Clock;
}

export type FollowNotice =
  | { type: 'resumed'; offset: number }
  | { type: 'started-at-end'; offset: number; reason: string }
  | { type: 'rotated' }
  // `offset`: where reading goes on (0: from the start; else the file was cut back to a part
  // already read). Cut to its start: `copy`, the copytruncate copy the lines written since
  // the last read were read from; or `lost`, no single copy found, so they may be lost.
  | { type: 'truncated'; offset: number; copy?: string; lost?: boolean }
  // `followed`: the file was being read before (a rotation that has not created the new
  // file yet), not a file that never was there.
  | { type: 'missing'; followed: boolean }
  | { type: 'appeared'; again: boolean }
  | { type: 'error'; message: string }
  // The file is read again after an error.
  | { type: 'readable' };

const CHUNK = 1 << 20;
const HASH_BYTES = 4096;
const PREVIOUS_GRACE = 5000;
// A file missing this long is no rotation in progress: nothing reads it while the gate stays up.
const MISSING_ERROR_AFTER = 60_000;

// Follows a log like `tail -F`: the current file by name, across rename-and-create rotation,
// copytruncate and delete-and-recreate; holds a partial line until its newline; reports the
// byte offset of the last whole line handed out.
export class FileFollower {
  private fd: number | undefined;
  private dev = 0;
  private ino = 0;
  private offset = 0;
  private firstLineHash = '';
  private splitter: LineSplitter = createLineSplitter();
  private pendingBytes = 0;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private again = false;
  private missingReported = false;
  // Host time the file was first found missing, and whether that was said as an error yet.
  private missingSince = 0;
  private missingSaid = false;
  // Whether a file was ever opened under this path.
  private opened = false;
  // The last reason the file could not be opened or read, reported once until it changes or
  // reading works again (checks come every poll interval).
  private failing: string | undefined;
  // The file before a rotation, still read for a while: a logger may write a last few lines
  // to it before it reopens the new file.
  private previous: { fd: number; offset: number; splitter: LineSplitter; until: number } | undefined;
  // One read buffer for the follower's life: the splitter copies what it keeps of it.
  private buffer: Buffer | undefined;

  constructor(
    readonly path: string,
    private readonly options: FollowOptions,
  ) {}

  // The last whole line handed out; still known after stop(), for the state file.
  position(): LogPosition | undefined {
    if (this.ino === 0 && this.dev === 0) return undefined;
    return { dev: this.dev, ino: this.ino, offset: this.offset - this.pendingBytes, firstLineHash: this.firstLineHash };
  }

  // Opens the file (or waits for it) and starts watching; reads nothing before the start point.
  start(): void {
    try {
      this.openCurrent(this.options.resume);
    } catch (error) {
      this.reportFailing((error as Error).message);
    }
    try {
      this.watcher = watch(dirname(this.path), { persistent: true }, (_event, name) => {
        if (name === null || name === basename(this.path)) this.check();
      });
      this.watcher.on('error', (error) => this.notice({ type: 'error', message: error.message }));
    } catch (error) {
      this.notice({ type: 'error', message: `cannot watch ${dirname(this.path)}: ${(error as Error).message}; polling only` });
    }
    this.timer = setInterval(() => this.check(), this.options.pollInterval ?? 500);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.closePrevious();
  }

  // Reads whatever is new, following rotation; safe to call at any time (tests call it
  // directly instead of waiting for a watch event).
  check(): void {
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.again = false;
        this.step();
      } while (this.again);
      if (this.fd !== undefined) this.reportReadable();
    } catch (error) {
      this.reportFailing((error as Error).message);
    } finally {
      this.checking = false;
    }
  }

  private step(): void {
    this.drainPrevious();
    if (this.fd === undefined) {
      this.openCurrent(undefined, true);
      if (this.fd === undefined) return;
    }
    let current: { dev: number; ino: number; size: number } | undefined;
    try {
      current = statSync(this.path);
    } catch {
      current = undefined;
    }
    if (current === undefined || current.ino !== this.ino || current.dev !== this.dev) {
      // Renamed away or deleted: what was still written to the old file comes first.
      this.drain();
      this.closePrevious();
      this.previous = { fd: this.fd, offset: this.offset, splitter: this.splitter, until: this.now() + PREVIOUS_GRACE };
      this.fd = undefined;
      if (current === undefined) {
        this.reportMissing();
        return;
      }
      this.notice({ type: 'rotated' });
      this.openCurrent(undefined, true);
      this.drain();
      return;
    }
    // copytruncate: the old content went to the copy and the new starts at byte 0. The file
    // may already have grown past the old offset again, so a changed first line tells too.
    const hash = this.firstLineHash === '' ? '' : this.hashFirstLine();
    if (current.size < this.offset || hash !== this.firstLineHash) {
      // Shorter but beginning as before: cut back to a part already read; what a logger
      // appends from there on is new.
      const offset = this.firstLineHash !== '' && hash === this.firstLineHash ? current.size : 0;
      const copy = offset === 0 ? this.drainCopy() : undefined;
      this.notice(offset !== 0 ? { type: 'truncated', offset } : copy !== undefined ? { type: 'truncated', offset, copy } : { type: 'truncated', offset, lost: true });
      this.splitter = createLineSplitter();
      this.pendingBytes = 0;
      this.offset = offset;
      this.firstLineHash = this.hashFirstLine();
    }
    this.drain();
  }

  private openCurrent(resume: LogPosition | undefined, fromStart = false): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.reportMissing();
      else this.reportFailing((error as Error).message);
      return;
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      this.reportFailing('not a regular file');
      return;
    }
    // The file moved away is back under its name (renamed back): it goes on where it was read to.
    const back = fromStart && this.previous !== undefined && stat.dev === this.dev && stat.ino === this.ino ? this.previous : undefined;
    if (back !== undefined) {
      closeSync(fd);
      this.previous = undefined;
    }
    this.fd = back?.fd ?? fd;
    this.dev = stat.dev;
    this.ino = stat.ino;
    this.firstLineHash = this.hashFirstLine();
    this.splitter = back?.splitter ?? createLineSplitter();
    this.pendingBytes = this.splitter.pendingBytes();
    if (this.missingReported) {
      this.missingReported = false;
      this.notice({ type: 'appeared', again: this.opened });
    }
    this.opened = true;
    if (back !== undefined) {
      this.offset = back.offset;
      return;
    }
    if (fromStart) {
      this.offset = 0;
      return;
    }
    if (resume !== undefined && resume.dev === stat.dev && resume.ino === stat.ino
      && resume.offset <= stat.size && (resume.firstLineHash === '' || resume.firstLineHash === this.firstLineHash)) {
      this.offset = resume.offset;
      this.notice({ type: 'resumed', offset: resume.offset });
      return;
    }
    this.offset = stat.size;
    this.notice({ type: 'started-at-end', offset: stat.size, reason: resume === undefined ? 'no saved position' : 'the file was replaced' });
  }

  private drain(): void {
    if (this.fd === undefined) return;
    this.offset = this.readFrom(this.fd, this.offset, this.splitter);
    this.pendingBytes = this.splitter.pendingBytes();
    if (this.firstLineHash === '') this.firstLineHash = this.hashFirstLine();
  }

  // copytruncate: lines written after the last read and before the copy are only in the copy.
  // Hands them out (with the partial line held, completed there), returns the copy's name.
  private drainCopy(): string | undefined {
    const known = this.firstLineHash;
    if (known === '') return undefined;
    const copy = findRotatedCopy(this.path, { dev: this.dev, ino: this.ino }, this.offset, (fd) => hashFirstLine(fd) === known);
    if (copy === undefined) return undefined;
    try {
      this.readFrom(copy.fd, this.offset, this.splitter, copy.size);
      // The copy will not grow: its last line counts even without a newline.
      const { lines } = this.splitter.end();
      if (lines.length > 0) this.options.onLines(lines);
      return copy.name;
    } catch {
      return undefined;
    } finally {
      closeSync(copy.fd);
    }
  }

  // Reads from `offset` to the end of the file (or `end`), hands out the whole lines, returns
  // the new offset.
  private readFrom(fd: number, offset: number, splitter: LineSplitter, end = Infinity): number {
    this.buffer ??= Buffer.allocUnsafe(CHUNK);
    const buffer = this.buffer;
    for (;;) {
      const read = readSync(fd, buffer, 0, Math.min(CHUNK, end - offset), offset);
      if (read === 0) return offset;
      offset += read;
      const { lines } = splitter.push(buffer.subarray(0, read));
      if (lines.length > 0) this.options.onLines(lines);
    }
  }

  private drainPrevious(): void {
    const previous = this.previous;
    if (previous === undefined) return;
    previous.offset = this.readFrom(previous.fd, previous.offset, previous.splitter);
    if (this.now() >= previous.until) this.closePrevious();
  }

  // The old file will not grow any more: its last line counts even without a newline.
  private closePrevious(): void {
    const previous = this.previous;
    if (previous === undefined) return;
    this.previous = undefined;
    const { lines } = previous.splitter.end();
    if (lines.length > 0) this.options.onLines(lines);
    closeSync(previous.fd);
  }

  private hashFirstLine(): string {
    return this.fd === undefined ? '' : hashFirstLine(this.fd);
  }

  private now(): number {
    return this.options.clock.now();
  }

  private reportFailing(message: string): void {
    if (this.failing === message) return;
    this.failing = message;
    this.notice({ type: 'error', message });
  }

  private reportReadable(): void {
    if (this.failing === undefined) return;
    this.failing = undefined;
    this.notice({ type: 'readable' });
  }

  private reportMissing(): void {
    if (this.missingReported) {
      if (this.missingSaid || this.now() - this.missingSince < MISSING_ERROR_AFTER) return;
      this.missingSaid = true;
      this.notice({ type: 'error', message: `missing for ${MISSING_ERROR_AFTER / 1000} s (no rotation takes that long): nothing is read from it, so no knock in it is seen, until it is there again` });
      return;
    }
    this.missingReported = true;
    // Whatever failed before is said again if it comes back with the file.
    this.failing = undefined;
    this.missingSince = this.now();
    this.missingSaid = false;
    this.notice({ type: 'missing', followed: this.opened });
  }

  private notice(notice: FollowNotice): void {
    this.options.onNotice?.(notice);
  }
}

// What a follower keeps of a file's start: a hash of its first line, or of the first
// HASH_BYTES of a longer one (they no longer change); '' while it has neither.
function hashFirstLine(fd: number): string {
  const buffer = Buffer.alloc(HASH_BYTES);
  const read = readSync(fd, buffer, 0, HASH_BYTES, 0);
  const newline = buffer.subarray(0, read).indexOf(10);
  if (newline === -1 && read < HASH_BYTES) return '';
  return createHash('sha256').update(buffer.subarray(0, newline === -1 ? read : newline)).digest('hex').slice(0, 32);
}
