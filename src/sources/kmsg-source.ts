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
  // Poll of the non-blocking device (ms).
  pollInterval?: number;
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

// Idle cost of the default 1 ms poll (a read that fails with EAGAIN, every ms), measured with
// process.cpuUsage and /usr/bin/time over 10 s (Linux 6.18, Node 20, 2 vCPUs): about 6 % of
// one core, half of it the 1 ms timer alone; the price of the target median under 2 ms.
const DEFAULT_POLL_INTERVAL = 1;

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
      this.readAll();
    }
    this.timer = setInterval(() => this.check(), this.options.pollInterval ?? DEFAULT_POLL_INTERVAL);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.handle?.close();
    this.handle = undefined;
  }

  check(): void {
    const records = this.readAll();
    if (records === undefined) return;
    let lost = 0;
    const lines: string[] = [];
    const { clock } = this.options;
    const wallMicros = clock.now() * 1000;
    const monotonicMicros = this.device.monotonicMicros();
    for (const { record, gap } of records) {
      lost += gap;
      if (isKernelRecord(record)) lines.push(kmsgLine(wallMicros - (monotonicMicros - record.usec), record.message));
    }
    if (lines.length > 0) {
      this.lastLineAt = clock.now();
      this.options.onLines(lines);
    }
    if (lost > 0) {
      this.options.onNotice({ level: 'warning', message: `kmsg: ${lost} kernel records were overwritten before knockwatch read them` });
    }
  }

  position(): KmsgPosition | undefined {
    return this.seq === undefined ? undefined : { kind: 'kmsg', boot: this.boot, seq: this.seq };
  }

  // /dev/kmsg does not say how much waits.
  lag(): undefined {
    return undefined;
  }

  // Reads until nothing waits: the records after the position, each with how many were lost
  // just before it. Undefined when not reading (stopped, or reading failed).
  private readAll(): { record: KmsgRecord; gap: number }[] | undefined {
    const handle = this.handle;
    if (handle === undefined) return undefined;
    const records: { record: KmsgRecord; gap: number }[] = [];
    for (;;) {
      let length: number;
      try {
        length = handle.read(this.buffer);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        // The read after EPIPE returns the oldest record left; the gap in SEQ counts the loss.
        if (code === 'EPIPE') continue;
        this.stop();
        this.options.onNotice({ level: 'error', message: `kmsg: reading ${this.device.path} failed, no more kernel records are read: ${(error as Error).message}` });
        return records;
      }
      if (length === 0) break;
      const record = parseKmsgRecord(this.buffer.toString('utf8', 0, length));
      if (record === undefined || (this.seq !== undefined && record.seq <= this.seq)) continue;
      records.push({ record, gap: this.seq === undefined ? 0 : record.seq - this.seq - 1 });
      this.seq = record.seq;
    }
    return records;
  }
}
