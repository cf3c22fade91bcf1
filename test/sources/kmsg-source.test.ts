import { afterEach, describe, expect, it, vi } from 'vitest';
import { KmsgSource, MAX_RECORDS_PER_CHECK, kmsgReadable, type KmsgDevice } from '../../src/sources/kmsg-source.js';
import type { SourceNotice } from '../../src/sources/source-notice.js';

const BOOT = 'f0dd1472-96ca-402b-9f11-f4cc107cae75';
// 2026-11-22T07:56:27.640Z
const NOW = 1_795_334_187_640;

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: fake`), { code });
}

// /dev/kmsg as a queue: one record per read, EAGAIN when empty, EPIPE where records were lost.
class FakeKmsg implements KmsgDevice {
  readonly path = '/dev/kmsg';
  queue: (string | Error)[] = [];
  monotonic = 9_000_000_000;
  openError: Error | undefined;
  opened = 0;
  closed = 0;

  bootId(): string {
    return BOOT;
  }

  monotonicMicros(): number {
    return this.monotonic;
  }

  open(): { read(buffer: Buffer): number; close(): void } {
    if (this.openError) throw this.openError;
    this.opened++;
    return {
      read: (buffer) => {
        const next = this.queue.shift();
        if (next === undefined) throw errno('EAGAIN');
        if (next instanceof Error) throw next;
        return buffer.write(next);
      },
      close: () => { this.closed++; },
    };
  }

  // Kernel records (facility 0, level 4) with these sequence numbers, at monotonic time 1 s + seq ms.
  push(...seqs: number[]): void {
    for (const seq of seqs) this.queue.push(`4,${seq},${1_000_000 + seq * 1000},-;record ${seq}\n`);
  }
}

const sources: KmsgSource[] = [];
afterEach(() => {
  for (const source of sources.splice(0)) source.stop();
  vi.useRealTimers();
});

function setup(device = new FakeKmsg()): { device: FakeKmsg; batches: string[][]; notices: SourceNotice[]; source: KmsgSource } {
  const batches: string[][] = [];
  const notices: SourceNotice[] = [];
  const source = new KmsgSource({ clock: { now: () => NOW }, device, pollInterval: 60_000, idlePollInterval: 60_000, onLines: (lines) => batches.push([...lines]), onNotice: (notice) => notices.push(notice) });
  sources.push(source);
  return { device, batches, notices, source };
}

// The message part of the lines handed out.
function messages(batches: string[][]): string[][] {
  return batches.map((batch) => batch.map((line) => line.slice(line.indexOf(': ') + 2)));
}

describe('the kmsg source', () => {
  it('starts after the records already there and hands out the ones that follow, one batch per poll', () => {
    const s = setup();
    s.device.push(1, 2, 3);
    expect(s.source.position()).toBeUndefined();
    s.source.start(undefined);
    expect(s.batches).toEqual([]);
    expect(s.source.position()).toEqual({ kind: 'kmsg', boot: BOOT, seq: 3 });
    s.device.push(4, 5, 6);
    s.source.check();
    s.source.check();
    s.device.push(7);
    s.source.check();
    expect(messages(s.batches)).toEqual([['record 4', 'record 5', 'record 6'], ['record 7']]);
    expect(s.source.position()).toEqual({ kind: 'kmsg', boot: BOOT, seq: 7 });
    expect(s.notices).toEqual([]);
    expect(s.source.lastLineAt).toBe(NOW);
    expect(s.source.lag()).toBeUndefined();
    expect([s.source.name, s.source.kind]).toEqual(['kmsg', 'kmsg']);
  });

  it('keeps kernel records only, yet moves past the others', () => {
    const s = setup();
    s.source.start(undefined);
    s.device.queue.push('12,10,2000000,-;KW-TEST SRC=203.0.113.7\n', '4,11,2000001,-;kernel SRC=203.0.113.8\n', '30,12,2000002,-;systemd[1]: started\n');
    s.source.check();
    expect(messages(s.batches)).toEqual([['kernel SRC=203.0.113.8']]);
    expect(s.source.position()?.seq).toBe(12);
    s.device.queue.push('12,13,2000003,-;user only\n');
    s.source.check();
    expect(s.batches).toHaveLength(1);
    expect(s.source.position()?.seq).toBe(13);
  });

  it('starts after every record already there, however many more than one poll reads', () => {
    const s = setup();
    s.device.push(...Array.from({ length: MAX_RECORDS_PER_CHECK + 3 }, (_, i) => i + 1));
    s.source.start(undefined);
    s.source.check();
    expect(s.batches).toEqual([]);
    expect(s.source.position()?.seq).toBe(MAX_RECORDS_PER_CHECK + 3);
  });

  it('passes over what it cannot read as a record', () => {
    const s = setup();
    s.source.start(undefined);
    s.device.queue.push('garbage\n', '4,21,2000000,-;fine\n');
    s.source.check();
    expect(messages(s.batches)).toEqual([['fine']]);
  });

  it('resumes after the saved record of the same boot', () => {
    const s = setup();
    s.device.push(10, 11, 12, 13, 14);
    s.source.start({ kind: 'kmsg', boot: BOOT, seq: 12 });
    expect(messages(s.batches)).toEqual([['record 13', 'record 14']]);
    expect(s.notices).toEqual([]);
  });

  it('says how many records were overwritten since the saved one', () => {
    const s = setup();
    s.device.push(10, 11);
    s.source.start({ kind: 'kmsg', boot: BOOT, seq: 5 });
    expect(messages(s.batches)).toEqual([['record 10', 'record 11']]);
    expect(s.notices).toEqual([{ level: 'warning', message: 'kmsg: 4 kernel records were overwritten before knockwatch read them' }]);
  });

  it.each([
    // a position of another boot: its sequence numbers mean nothing now
    ['another boot', { kind: 'kmsg' as const, boot: 'other', seq: 12 }],
    // a file position from an old state file
    ['a file position', { dev: 1, ino: 2, offset: 3, firstLineHash: '' }],
  ])('starts after the records already there given %s', (_, resume) => {
    const s = setup();
    s.device.push(10, 11, 12, 13, 14);
    s.source.start(resume);
    expect(s.batches).toEqual([]);
    expect(s.source.position()).toEqual({ kind: 'kmsg', boot: BOOT, seq: 14 });
  });

  it('goes on after records were overwritten before it read them (EPIPE), saying how many', () => {
    const s = setup();
    s.source.start(undefined);
    s.device.push(20);
    s.device.queue.push(errno('EPIPE'));
    s.device.push(25, 26);
    s.source.check();
    expect(messages(s.batches)).toEqual([['record 20', 'record 25', 'record 26']]);
    expect(s.notices).toEqual([{ level: 'warning', message: 'kmsg: 4 kernel records were overwritten before knockwatch read them' }]);
  });

  it('stamps the newest record read live at now and the others before it by their kernel times, however far the monotonic clock drifted', () => {
    const s = setup();
    s.source.start(undefined);
    s.device.queue.push('4,1,8401541233,-;first\n', '4,2,8401543733,-;knock\n');
    // Minutes apart from the kernel's clock: only a backlog goes through this one.
    s.device.monotonic = 8_401_543_733 + 300_000_000;
    s.source.check();
    expect(s.batches).toEqual([[
      `${new Date(NOW - 2.5).toISOString().replace('Z', '')}500+00:00 kmsg kernel: first`,
      `${new Date(NOW).toISOString().replace('Z', '')}000+00:00 kmsg kernel: knock`,
    ]]);
  });

  it('places a resumed backlog through the monotonic clock', () => {
    const s = setup();
    s.device.push(1, 2);
    s.device.monotonic = 1_000_000 + 2 * 1000 + 2_500;
    s.source.start({ kind: 'kmsg', boot: BOOT, seq: 0 });
    expect(s.batches).toEqual([[
      `${new Date(NOW - 3.5).toISOString().replace('Z', '')}500+00:00 kmsg kernel: record 1`,
      `${new Date(NOW - 2.5).toISOString().replace('Z', '')}500+00:00 kmsg kernel: record 2`,
    ]]);
  });

  it('reads at most MAX_RECORDS_PER_CHECK records per poll and goes on at the next', () => {
    const s = setup();
    s.source.start(undefined);
    s.device.push(...Array.from({ length: MAX_RECORDS_PER_CHECK + 3 }, (_, i) => i + 1));
    s.source.check();
    expect(s.batches.map((batch) => batch.length)).toEqual([MAX_RECORDS_PER_CHECK]);
    s.source.check();
    expect(s.batches.map((batch) => batch.length)).toEqual([MAX_RECORDS_PER_CHECK, 3]);
  });

  describe('polls on its own', () => {
    // The default timing, with the device's monotonic clock moved along with the fake timers.
    function polled(): { device: FakeKmsg; batches: string[][]; advance: (ms: number) => void } {
      vi.useFakeTimers();
      const device = new FakeKmsg();
      const batches: string[][] = [];
      const source = new KmsgSource({ clock: { now: () => NOW }, device, onLines: (lines) => batches.push([...lines]), onNotice: () => {} });
      sources.push(source);
      source.start(undefined);
      const advance = (ms: number): void => {
        for (let i = 0; i < ms; i++) {
          device.monotonic += 1000;
          vi.advanceTimersByTime(1);
        }
      };
      return { device, batches, advance };
    }

    it('every 20 ms while the kernel is quiet, every 1 ms for 5 s after a kernel record, every 20 ms again after that', () => {
      const p = polled();
      // Quiet since start: the first record waits for the 20 ms poll.
      p.device.push(1);
      p.advance(19);
      expect(p.batches).toEqual([]);
      p.advance(1);
      expect(messages(p.batches)).toEqual([['record 1']]);
      // Then each record is read within 1 ms, for 5 s after the last one.
      p.device.push(2);
      p.advance(1);
      expect(messages(p.batches)).toEqual([['record 1'], ['record 2']]);
      p.advance(4990);
      p.device.push(3);
      p.advance(1);
      expect(messages(p.batches).at(-1)).toEqual(['record 3']);
      // 5 s after record 3: back to the 20 ms poll.
      p.advance(5000);
      p.device.push(4);
      p.advance(19);
      expect(messages(p.batches).at(-1)).toEqual(['record 3']);
      p.advance(1);
      expect(messages(p.batches).at(-1)).toEqual(['record 4']);
      // And fast again right after it.
      p.device.push(5);
      p.advance(1);
      expect(messages(p.batches).at(-1)).toEqual(['record 5']);
    });

    it('sets its poll timer again only when the speed changes', () => {
      const p = polled();
      const set = vi.spyOn(globalThis, 'setInterval');
      p.advance(100);
      expect(set).toHaveBeenCalledTimes(0);
      p.device.push(1);
      p.advance(20);
      p.advance(100);
      expect(set.mock.calls.map(([, ms]) => ms)).toEqual([1]);
      p.advance(5000);
      expect(set.mock.calls.map(([, ms]) => ms)).toEqual([1, 20]);
      set.mockRestore();
    });

    it('stays on the 20 ms poll for records that are not the kernel\'s', () => {
      const p = polled();
      p.device.queue.push('12,1,1001000,-;user\n');
      p.advance(20);
      p.device.push(2);
      p.advance(19);
      expect(p.batches).toEqual([]);
      p.advance(1);
      expect(messages(p.batches)).toEqual([['record 2']]);
    });
  });

  it('closes the device at stop, reads no more, and keeps its position', () => {
    vi.useFakeTimers();
    const s = setup();
    s.device.push(1);
    s.source.start(undefined);
    s.device.push(2);
    s.source.stop();
    expect([s.device.opened, s.device.closed]).toEqual([1, 1]);
    expect(vi.getTimerCount()).toBe(0);
    s.source.check();
    expect(s.batches).toEqual([]);
    expect(s.device.queue).toHaveLength(1);
    expect(s.source.position()).toEqual({ kind: 'kmsg', boot: BOOT, seq: 1 });
  });

  it('opens the device again after a read fails otherwise, with a backoff, and goes on after the last record read', () => {
    vi.useFakeTimers();
    const s = setup();
    s.source.start(undefined);
    s.device.push(1);
    s.device.queue.push(errno('EIO'));
    s.device.push(2);
    s.source.check();
    expect(messages(s.batches)).toEqual([['record 1']]);
    expect(s.notices).toEqual([{ level: 'error', message: 'kmsg: reading /dev/kmsg failed (EIO: fake); opening it again in 1s' }]);
    expect([s.device.opened, s.device.closed]).toEqual([1, 1]);
    s.device.openError = errno('EIO');
    vi.advanceTimersByTime(1000);
    expect(s.notices.at(-1)).toEqual({ level: 'error', message: 'kmsg: reading /dev/kmsg failed (EIO: fake); opening it again in 2s' });
    s.device.openError = undefined;
    // What the reopened device reads first is older than the position: passed over.
    s.device.queue.unshift('4,1,1001000,-;record 1\n');
    vi.advanceTimersByTime(2000);
    expect(s.device.opened).toBe(2);
    s.source.check();
    expect(messages(s.batches)).toEqual([['record 1'], ['record 2']]);
    expect(s.source.position()?.seq).toBe(2);
    // Reading again resets the backoff; a stop while it waits opens nothing later.
    s.device.queue.push(errno('EIO'));
    s.source.check();
    expect(s.notices.at(-1)).toEqual({ level: 'error', message: 'kmsg: reading /dev/kmsg failed (EIO: fake); opening it again in 1s' });
    s.source.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(s.device.opened).toBe(2);
  });
});

describe('a /dev/kmsg that cannot be read', () => {
  it.each([
    ['EPERM', '/dev/kmsg cannot be read (EPERM): the kernel log needs root or CAP_SYSLOG when kernel.dmesg_restrict is 1. Run knockwatch as root, or set kernel_source to journal or file:PATH.'],
    ['EACCES', '/dev/kmsg cannot be read (EACCES): the kernel log needs root or CAP_SYSLOG when kernel.dmesg_restrict is 1. Run knockwatch as root, or set kernel_source to journal or file:PATH.'],
    ['ENOENT', '/dev/kmsg does not exist (a container without the kernel log?). Set kernel_source to journal or file:PATH.'],
    ['EIO', '/dev/kmsg cannot be opened: EIO: fake.'],
  ])('%s: start throws why and what to do, and the probe says the same', (code, message) => {
    const s = setup();
    s.device.openError = errno(code);
    expect(() => s.source.start(undefined)).toThrow(new Error(message));
    expect(kmsgReadable(s.device)).toBe(message);
  });

  it('the probe finds nothing wrong with a device that opens, and closes it', () => {
    const device = new FakeKmsg();
    expect(kmsgReadable(device)).toBeUndefined();
    expect([device.opened, device.closed]).toEqual([1, 1]);
  });
});
