import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import type { Clock } from '../runtime/clock.js';
import { isKernelRecord, kmsgLine, parseKmsgRecord, type KmsgRecord } from './kmsg-record.js';
import type { KmsgPosition, LineSource, SourcePosition } from './line-source.js';
import type { SourceNotice } from './source-notice.js';

// Record sequence numbers restart at each boot, so a position names its boot.

export interface KmsgHandle {
  // Reads one record into `buffer` and returns its length; throws EAGAIN when none waits and
  // EPIPE when the next records were overwritten (the read after that returns the oldest left).
  read(buffer: Buffer): number;
  close(): void;
}

// The kernel log device and its clocks; tests give a fake one.
export interface KmsgDevice {
  readonly path: string;
  open(): KmsgHandle;
  bootId(): string;
  // Now on the clock record timestamps use, in microseconds since boot.
  monotonicMicros(): number;
}

export interface KmsgSourceOptions {
  clock: Clock;
  onLines: (lines: readonly string[]) => void;
  onNotice: (notice: SourceNotice) => void;
  device?: KmsgDevice;
  // Poll of the non-blocking device while kernel records come (ms).
  pollInterval?: number;
  // Poll once no kernel record came for `quietAfter` ms.
  idlePollInterval?: number;
  quietAfter?: number;
}

const systemKmsgDevice: KmsgDevice = {
  path: '/dev/kmsg',
  open() {
    // Non-blocking: a blocked read would hold a threadpool thread that cannot be cancelled,
    // keeping the process alive after stop.
    const fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
    return { read: (buffer) => readSync(fd, buffer, 0, buffer.length, null), close: () => closeSync(fd) };
  },
  bootId: () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
  // hrtime is CLOCK_MONOTONIC, the clock of kmsg timestamps. Neither counts time spent in
  // suspend, so their difference stays right across a suspend.
  monotonicMicros: () => Number(process.hrtime.bigint() / 1000n),
};

// One record is at most 8 KiB (CONSOLE_EXT_LOG_MAX); a shorter buffer makes read fail.
const RECORD_BUFFER = 16 * 1024;

// Node cannot wait for /dev/kmsg to become readable: libuv refuses a character device as a
// stream (net.Socket: ERR_INVALID_FD_TYPE), fs.watch sees only writes from user space, and a
// blocking read in the threadpool cannot be cancelled (even process.exit waits for it). So
// the device is polled: every 1 ms while kernel records come, every 20 ms once none came for
// 5 s. Idle daemon, nftables, 20 s (Linux 6.18, Node 20, 2 busy vCPUs): 1 ms always ~6 % of
// one core, this ~1.6 % (~0.6 % without any poll). Knock steps come within seconds of each
// other and only the last one's latency counts: the first step of a sequence may be read up
// to one idle interval late and switches to the 1 ms poll, so the last step is read within
// ~1 ms, unless the whole sequence took less than the idle interval (then up to 20 ms).
const FAST_POLL_INTERVAL = 1;
const IDLE_POLL_INTERVAL = 20;
// The bench waits this long to knock on a source back on its idle poll.
export const QUIET_AFTER = 5000;
// At most this many records per poll: a flood of LOG records must not hold the event loop
// (and the firewall's timers); the next poll goes on where this one stopped.
export const MAX_RECORDS_PER_CHECK = 5000;
// A device that failed is opened again after 1 s, doubling to 30 s.
const FIRST_REOPEN = 1000;
const LAST_REOPEN = 30_000;

// Why /dev/kmsg cannot be read, for preflight; undefined when it can.
export function kmsgReadable(device: KmsgDevice = systemKmsgDevice): string | undefined {
  try {
    device.open().close();
    return undefined;
  } catch (error) {
    return openProblem(device.path, error);
  }
}

function openProblem(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return `${path} cannot be read (${code}): the kernel log needs root or CAP_SYSLOG when kernel.dmesg_restrict is 1. Run knockwatch as root, or set kernel_source to journal or file:PATH.`;
  }
  if (code === 'ENOENT') {
    return `${path} does not exist (a container without the kernel log?). Set kernel_source to journal or file:PATH.`;
  }
  return `${path} cannot be opened: ${(error as Error).message}.`;
}

// The kernel log read from /dev/kmsg, as a LineSource: facility-0 records only (user space
// cannot write those), handed out as syslog-shaped `kernel:` lines stamped with their wall time.
export class KmsgSource implements LineSource {
  readonly name = 'kmsg';
  readonly kind = 'kmsg';
  lastLineAt: number | undefined;
  private readonly device: KmsgDevice;
  private readonly buffer = Buffer.alloc(RECORD_BUFFER);
  private handle: KmsgHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private interval = 0;
  // Monotonic time (µs) of the last kernel record read.
  private lastKernelRecord = -Infinity;
  private reopenTimer: NodeJS.Timeout | undefined;
  private reopenDelay = FIRST_REOPEN;
  private boot = '';
  // Sequence number of the last record read (handed out, or passed over as not the kernel's).
  private seq: number | undefined;

  constructor(private readonly options: KmsgSourceOptions) {
    this.device = options.device ?? systemKmsgDevice;
  }

  // Resumes after `resume.seq` when it is a kmsg position from this boot; else starts after
  // the records already there, reading nothing older.
  start(resume: SourcePosition | undefined): void {
    let handle: KmsgHandle;
    try {
      handle = this.device.open();
    } catch (error) {
      throw new Error(openProblem(this.device.path, error));
    }
    this.handle = handle;
    this.boot = this.device.bootId();
    if (resume !== undefined && 'kind' in resume && resume.kind === 'kmsg' && resume.boot === this.boot) {
      this.seq = resume.seq;
      this.check();
    } else {
      while (this.readAll()?.caughtUp === false);
    }
    this.pollEvery(this.pollInterval());
  }

  stop(): void {
    clearInterval(this.timer);
    this.interval = 0;
    clearTimeout(this.reopenTimer);
    this.timer = undefined;
    this.reopenTimer = undefined;
    this.handle?.close();
    this.handle = undefined;
  }

  check(): void {
    const read = this.readAll();
    if (read === undefined) return;
    let lost = 0;
    const lines: string[] = [];
    const { clock } = this.options;
    const wallMicros = clock.now() * 1000;
    // Polling (start's first read is done): records read now were written since the poll before.
    const live = this.timer !== undefined;
    // A record's time is the kernel's local clock, which NTP does not slew as it does
    // CLOCK_MONOTONIC: over a long uptime the two drift apart by minutes. Records read live
    // were written since the last poll, so the newest is placed at now and the others before
    // it; only a backlog (a resume, a capped poll) is placed through the monotonic clock.
    const newest = read.records.at(-1)?.record.usec ?? 0;
    const anchor = live && read.caughtUp ? newest : this.device.monotonicMicros();
    for (const { record, gap } of read.records) {
      lost += gap;
      if (isKernelRecord(record)) lines.push(kmsgLine(wallMicros - (anchor - record.usec), record.message));
    }
    if (lines.length > 0) this.lastKernelRecord = this.device.monotonicMicros();
    if (live) this.pollEvery(this.pollInterval());
    if (lines.length > 0) {
      this.lastLineAt = clock.now();
      this.options.onLines(lines);
    }
    if (lost > 0) {
      this.options.onNotice({ level: 'warning', message: `kmsg: ${lost} kernel records were overwritten before knockwatch read them` });
    }
  }

  private pollInterval(): number {
    const { pollInterval = FAST_POLL_INTERVAL, idlePollInterval = IDLE_POLL_INTERVAL, quietAfter = QUIET_AFTER } = this.options;
    return this.device.monotonicMicros() - this.lastKernelRecord < quietAfter * 1000 ? pollInterval : idlePollInterval;
  }

  // One interval timer, replaced only when the interval changes.
  private pollEvery(interval: number): void {
    if (interval === this.interval) return;
    clearInterval(this.timer);
    this.interval = interval;
    this.timer = setInterval(() => this.check(), interval);
    this.timer.unref();
  }

  position(): KmsgPosition | undefined {
    return this.seq === undefined ? undefined : { kind: 'kmsg', boot: this.boot, seq: this.seq };
  }

  // /dev/kmsg does not say how much waits.
  lag(): undefined {
    return undefined;
  }

  // Reads until nothing waits, or MAX_RECORDS_PER_CHECK: the records after the position,
  // each with how many were lost just before it, and whether it caught up. Undefined when not
  // reading (stopped, or waiting to open the device again).
  private readAll(): { records: { record: KmsgRecord; gap: number }[]; caughtUp: boolean } | undefined {
    const handle = this.handle;
    if (handle === undefined) return undefined;
    const records: { record: KmsgRecord; gap: number }[] = [];
    while (records.length < MAX_RECORDS_PER_CHECK) {
      let length: number;
      try {
        length = handle.read(this.buffer);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return { records, caughtUp: true };
        // The read after EPIPE returns the oldest record left; the gap in SEQ counts the loss.
        if (code === 'EPIPE') continue;
        this.failed(error as Error);
        return { records, caughtUp: true };
      }
      if (length === 0) return { records, caughtUp: true };
      const record = parseKmsgRecord(this.buffer.toString('utf8', 0, length));
      if (record === undefined || (this.seq !== undefined && record.seq <= this.seq)) continue;
      records.push({ record, gap: this.seq === undefined ? 0 : record.seq - this.seq - 1 });
      this.seq = record.seq;
    }
    return { records, caughtUp: false };
  }

  // A read that failed: the device is opened again (after the last record read) with a
  // backoff; a gate with nothing reading knocks would lock everyone out.
  private failed(error: Error): void {
    this.handle?.close();
    this.handle = undefined;
    this.options.onNotice({ level: 'error', message: `kmsg: reading ${this.device.path} failed (${error.message}); opening it again in ${this.reopenDelay / 1000}s` });
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      try {
        this.handle = this.device.open();
        this.reopenDelay = FIRST_REOPEN;
        this.options.onNotice({ level: 'info', message: `kmsg: reading ${this.device.path} again` });
      } catch (reopenError) {
        this.reopenDelay = Math.min(LAST_REOPEN, this.reopenDelay * 2);
        this.failed(reopenError as Error);
      }
    }, this.reopenDelay);
    this.reopenTimer.unref();
  }
}
