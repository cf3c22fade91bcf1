import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { journalHasSshd, JournalSource, journalUnreadable, type JournalProcess } from '../../src/sources/journal-source.js';
import type { SourceNotice } from '../../src/sources/source-notice.js';

// An async iterable fed by the test.
class Pipe implements AsyncIterable<string> {
  private readonly queue: (string | null)[] = [];
  private wake: (() => void) | undefined;
  write(text: string): void { this.queue.push(text); this.wake?.(); }
  end(): void { this.queue.push(null); this.wake?.(); }
  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (;;) {
      while (this.queue.length === 0) await new Promise<void>((resolve) => { this.wake = resolve; });
      const next = this.queue.shift();
      if (next === null || next === undefined) return;
      yield next;
    }
  }
}

interface FakeProcess { args: readonly string[]; stdout: Pipe; stderr: Pipe; killed: boolean; exit(code: number | undefined, error?: string): void }

function setup(now: () => number = () => 5000) {
  const spawned: FakeProcess[] = [];
  const lines: string[][] = [];
  const notices: SourceNotice[] = [];
  const source = new JournalSource({
    clock: { now }, lines: 'knocks',
    onLines: (got) => lines.push([...got]),
    onNotice: (notice) => notices.push(notice),
    spawn: (args): JournalProcess => {
      let resolve!: (value: { code: number | undefined; error?: string }) => void;
      const exited = new Promise<{ code: number | undefined; error?: string }>((r) => { resolve = r; });
      const fake: FakeProcess = {
        args, stdout: new Pipe(), stderr: new Pipe(), killed: false,
        exit(code, error) { this.stdout.end(); this.stderr.end(); resolve({ code, error }); },
      };
      spawned.push(fake);
      return { stdout: fake.stdout, stderr: fake.stderr, exited, kill: () => { fake.killed = true; fake.exit(undefined); } };
    },
  });
  return { source, spawned, lines, notices };
}

const entry = (cursor: string, message: string, extra: Record<string, unknown> = {}): string => `${JSON.stringify({
  __CURSOR: cursor, __REALTIME_TIMESTAMP: '1795338000000000', _TRANSPORT: 'kernel', SYSLOG_FACILITY: '0', _HOSTNAME: 'gate', MESSAGE: message, ...extra,
})}\n`;
const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('the journal as a line source', () => {
  it('starts at the end without a cursor and hands out one batch per chunk, saving the last cursor read', async () => {
    const s = setup();
    s.source.start(undefined);
    expect(s.spawned.map((p) => p.args)).toEqual([[
      '--follow', '--output=json', '--no-pager',
      '--output-fields=MESSAGE,_TRANSPORT,SYSLOG_FACILITY,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID,_HOSTNAME,_COMM,_UID,_SYSTEMD_UNIT',
      '--lines=0', '_TRANSPORT=kernel', 'SYSLOG_FACILITY=0',
    ]]);
    expect(s.source.position()).toBeUndefined();
    expect(s.source.name).toBe('journal:kernel');
    expect(s.source.kind).toBe('journal');
    s.spawned[0]!.stdout.write(entry('c1', 'one') + entry('c2', 'forged', { SYSLOG_FACILITY: '1' }).slice(0, 20));
    await flush();
    s.spawned[0]!.stdout.write(entry('c2', 'forged', { SYSLOG_FACILITY: '1' }).slice(20) + entry('c3', 'three'));
    await flush();
    expect(s.lines).toEqual([
      ['2026-11-22T09:00:00.000000+00:00 gate kernel: one'],
      ['2026-11-22T09:00:00.000000+00:00 gate kernel: three'],
    ]);
    expect(s.source.position()).toEqual({ kind: 'journal', cursor: 'c3' });
    expect(s.source.refused).toBe(1);
    expect(s.source.lastLineAt).toBe(5000);
    expect(s.source.lag()).toBeUndefined();
  });

  it('resumes after a saved cursor, with the sshd matches for auth', () => {
    const s = setup();
    const auth = new JournalSource({ clock: { now: () => 0 }, lines: 'auth', onLines: () => {}, onNotice: () => {}, spawn: (args) => { s.spawned.push({ args } as FakeProcess); return { stdout: new Pipe(), stderr: new Pipe(), kill: () => {}, exited: new Promise(() => {}) }; } });
    auth.start({ kind: 'journal', cursor: 's=ab;i=1f' });
    expect(s.spawned[0]!.args.slice(4)).toEqual([
      '--after-cursor=s=ab;i=1f',
      '_SYSTEMD_UNIT=ssh.service', '+', '_SYSTEMD_UNIT=sshd.service', '+', 'SYSLOG_IDENTIFIER=sshd', '+', 'SYSLOG_IDENTIFIER=sshd-session',
    ]);
    expect(auth.name).toBe('journal:sshd');
    expect(auth.position()).toEqual({ kind: 'journal', cursor: 's=ab;i=1f' });
  });

  it('reads journal_directory instead of the system journal, also after a restart', async () => {
    const spawned: (readonly string[])[] = [];
    const exits: (() => void)[] = [];
    const source = new JournalSource({ clock: { now: () => 0 }, lines: 'auth', directory: '/srv/journal', onLines: () => {}, onNotice: () => {},
      spawn: (args) => {
        spawned.push(args);
        const [stdout, stderr] = [new Pipe(), new Pipe()];
        const exited = new Promise<{ code: number | undefined }>((resolve) => { exits.push(() => { stdout.end(); stderr.end(); resolve({ code: 1 }); }); });
        return { stdout, stderr, kill: () => {}, exited };
      } });
    source.start({ kind: 'journal', cursor: 's=ab;i=1f', directory: '/srv/journal' });
    exits[0]!();
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.position()).toEqual({ kind: 'journal', cursor: 's=ab;i=1f', directory: '/srv/journal' });
    source.stop();
    expect(spawned.map((args) => args.slice(0, 6))).toEqual([0, 1].map(() => [
      '--follow', '--output=json', '--no-pager', '--directory=/srv/journal',
      '--output-fields=MESSAGE,_TRANSPORT,SYSLOG_FACILITY,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID,_HOSTNAME,_COMM,_UID,_SYSTEMD_UNIT',
      '--after-cursor=s=ab;i=1f',
    ]));
  });

  it('does not resume from a cursor of another journal (journal_directory changed, set or unset)', () => {
    for (const [saved, directory] of [[undefined, '/srv/journal'], ['/srv/old', '/srv/journal'], ['/srv/old', undefined]] as const) {
      const spawned: (readonly string[])[] = [];
      const source = new JournalSource({ clock: { now: () => 0 }, lines: 'auth', directory, onLines: () => {}, onNotice: () => {},
        spawn: (args) => {
          spawned.push(args);
          return { stdout: new Pipe(), stderr: new Pipe(), kill: () => {}, exited: new Promise(() => undefined) };
        } });
      source.start(saved === undefined ? { kind: 'journal', cursor: 's=ab;i=1f' } : { kind: 'journal', cursor: 's=ab;i=1f', directory: saved });
      source.stop();
      expect(spawned[0]).toContain('--lines=0');
      expect(source.position()).toBeUndefined();
    }
  });

  it('restarts journalctl after it exits, from the last cursor, 1 s then doubling to 30 s', async () => {
    const s = setup();
    s.source.start(undefined);
    s.spawned[0]!.stdout.write(entry('c1', 'one'));
    await flush();
    s.spawned[0]!.stderr.write('Failed to open journal: Bad message\nmore\n');
    s.spawned[0]!.exit(1);
    await flush();
    expect(s.notices).toEqual([{ level: 'error', message: 'journalctl for journal:kernel stopped (exit status 1: Failed to open journal: Bad message); restarting in 1 s.' }]);
    await vi.advanceTimersByTimeAsync(999);
    expect(s.spawned).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.spawned).toHaveLength(2);
    expect(s.spawned[1]!.args[4]).toBe('--after-cursor=c1');
    const delays: string[] = [];
    for (let i = 2; i <= 7; i++) {
      s.spawned[i - 1]!.exit(undefined, 'journalctl not found');
      await flush();
      delays.push(s.notices.at(-1)!.message);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(s.spawned).toHaveLength(i + 1);
    }
    expect(delays).toEqual([2, 4, 8, 16, 30, 30].map((d) => `journalctl for journal:kernel stopped (journalctl not found); restarting in ${d} s.`));
  });

  it('restarts 1 s after an exit again once the restarted journalctl read an entry', async () => {
    const s = setup();
    s.source.start(undefined);
    for (const i of [0, 1]) {
      s.spawned[i]!.exit(1);
      await flush();
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(s.notices.map((notice) => /restarting in (\d+) s\.$/.exec(notice.message)?.[1])).toEqual(['1', '2']);
    s.spawned[2]!.stdout.write(entry('c1', 'one'));
    await flush();
    s.spawned[2]!.exit(1);
    await flush();
    expect(s.notices.at(-1)!.message).toMatch(/restarting in 1 s\.$/);
  });

  // Without a cursor the first journalctl starts at the end; one that exits before it printed
  // an entry leaves no cursor, and starting at the end again would skip what was written in
  // between: the restarts read from the host time the first one was started.
  it('restarts from the time it first started when journalctl exits before printing an entry', async () => {
    let now = 1_795_338_000_250;
    const s = setup(() => now);
    s.source.start(undefined);
    for (const i of [0, 1]) {
      now += 10_000;
      s.spawned[i]!.exit(1);
      await flush();
      await vi.advanceTimersByTimeAsync(30_000);
    }
    s.spawned[2]!.stdout.write(entry('c1', 'one'));
    await flush();
    s.spawned[2]!.exit(1);
    await flush();
    await vi.advanceTimersByTimeAsync(30_000);
    // started again without a position: from its end, as at the first start
    s.source.stop();
    s.source.start(undefined);
    s.spawned[4]!.exit(1);
    await flush();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(s.spawned.map((p) => p.args[4])).toEqual(['--lines=0', '--since=@1795338000.250', '--since=@1795338000.250', '--after-cursor=c1', '--lines=0', '--since=@1795338020.250']);
    expect(s.spawned[1]!.args.slice(5)).toEqual(['_TRANSPORT=kernel', 'SYSLOG_FACILITY=0']);
  });

  it('reads from now on, not from its first start, when journalctl refuses a cursor it printed', async () => {
    const s = setup();
    s.source.start(undefined);
    s.spawned[0]!.stdout.write(entry('c1', 'one'));
    await flush();
    s.spawned[0]!.exit(1);
    await flush();
    await vi.advanceTimersByTimeAsync(1000);
    s.spawned[1]!.stderr.write('Failed to seek to cursor: Invalid argument\n');
    s.spawned[1]!.exit(1);
    await flush();
    expect(s.spawned.map((p) => p.args[4])).toEqual(['--lines=0', '--after-cursor=c1', '--lines=0']);
  });

  it('keeps the cursor it read since a resume when journalctl then exits saying "cursor"', async () => {
    const s = setup();
    s.source.start({ kind: 'journal', cursor: 'c0' });
    s.spawned[0]!.stdout.write(entry('c1', 'one'));
    await flush();
    s.spawned[0]!.stderr.write('Failed to iterate through journal: cursor went away\n');
    s.spawned[0]!.exit(1);
    await flush();
    expect(s.notices.map((notice) => notice.level)).toEqual(['error']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.spawned.map((p) => p.args[4])).toEqual(['--after-cursor=c0', '--after-cursor=c1']);
  });

  it('does not take a cursor longer than 512 characters as its position', async () => {
    const s = setup();
    s.source.start(undefined);
    s.spawned[0]!.stdout.write(entry('c1', 'one') + entry('c'.repeat(513), 'two'));
    await flush();
    expect(s.lines.flat()).toHaveLength(2);
    expect(s.source.position()).toEqual({ kind: 'journal', cursor: 'c1' });
  });

  it('hands out nothing its journalctl printed once stopped', async () => {
    const s = setup();
    s.source.start(undefined);
    s.spawned[0]!.stdout.write(entry('c1', 'one'));
    s.source.stop();
    await flush();
    expect(s.lines).toEqual([]);
    expect(s.source.position()).toBeUndefined();
  });

  it('reads from now on when journalctl refuses the saved cursor', async () => {
    const s = setup();
    s.source.start({ kind: 'journal', cursor: 'garbage' });
    s.spawned[0]!.stderr.write('Failed to seek to cursor: Invalid argument\n');
    s.spawned[0]!.exit(1);
    await flush();
    expect(s.notices).toEqual([{ level: 'warning', message: 'journalctl did not accept the saved journal cursor (Failed to seek to cursor: Invalid argument); reading journal:kernel from now on.' }]);
    expect(s.spawned.map((p) => p.args[4])).toEqual(['--after-cursor=garbage', '--lines=0']);
    expect(s.source.position()).toBeUndefined();
  });

  it('stop kills its journalctl and restarts nothing', async () => {
    const s = setup();
    s.source.start(undefined);
    s.spawned[0]!.exit(1);
    await flush();
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.spawned).toHaveLength(2);
    s.source.stop();
    expect(s.spawned.map((p) => p.killed)).toEqual([false, true]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.spawned).toHaveLength(2);
    expect(s.notices).toHaveLength(1);
  });

  it('stop during the backoff cancels the restart', async () => {
    const s = setup();
    s.source.start(undefined);
    s.spawned[0]!.exit(1);
    await flush();
    s.source.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.spawned).toHaveLength(1);
  });

  it('drops and counts a line over 64 KiB, and goes on', async () => {
    const s = setup();
    s.source.start(undefined);
    s.spawned[0]!.stdout.write(entry('c1', 'x'.repeat(70_000)) + entry('c2', 'after'));
    await flush();
    expect(s.lines).toEqual([['2026-11-22T09:00:00.000000+00:00 gate kernel: after']]);
    expect(s.source.oversize).toBe(1);
    expect(s.notices).toEqual([{ level: 'warning', message: 'journalctl printed 1 line(s) over 65536 bytes for journal:kernel; dropped.' }]);
    expect(s.source.position()).toEqual({ kind: 'journal', cursor: 'c2' });
  });
});

describe('journalHasSshd (auth_source = auto)', () => {
  // What journalctl was asked, and what it answered.
  function runnerSaying(stdout: string, calls: (readonly string[])[], failed = false): CommandRunner {
    return { run: async (_file, args) => { calls.push(args); return { exitCode: failed ? 1 : 0, stdout, stderr: '', failed, reason: failed ? 'timed out' : '' }; } };
  }
  const sshd = JSON.stringify({ __REALTIME_TIMESTAMP: '1795338000000000', _TRANSPORT: 'syslog', SYSLOG_IDENTIFIER: 'sshd', _COMM: 'sshd', _UID: '0', _PID: '42', _HOSTNAME: 'gate', MESSAGE: 'Server listening on 0.0.0.0 port 22.' });

  it.each<[string, string | undefined, string, boolean]>([
    // the system journal, or the one journal_directory names
    ['system journal with sshd', undefined, sshd, true],
    ['journal directory with sshd', '/srv/journal', sshd, true],
    ['nothing from sshd', '/srv/journal', '', false],
    // an entry journalEntryToLine would refuse (logger -t sshd as root) does not count
    ['a forged entry only', undefined, sshd.replace('"_COMM":"sshd"', '"_COMM":"logger"'), false],
  ])('%s', async (_name, directory, stdout, expected) => {
    const calls: (readonly string[])[] = [];
    expect(await journalHasSshd(directory, runnerSaying(stdout, calls))).toBe(expected);
    expect(calls.map((args) => args.filter((arg) => arg.startsWith('--directory')))).toEqual([directory === undefined ? [] : [`--directory=${directory}`]]);
  });

  it('is false when journalctl failed, whatever it printed first', async () => {
    expect(await journalHasSshd(undefined, runnerSaying(sshd, [], true))).toBe(false);
  });
});

describe('journalUnreadable (checked before any gate)', () => {
  function runner(result: { stderr?: string; failed?: boolean }, calls: (readonly string[])[]): CommandRunner {
    return { run: async (_file, args) => { calls.push(args); return { exitCode: result.failed ? 1 : 0, stdout: '-- No entries --', stderr: result.stderr ?? '', failed: result.failed ?? false, reason: result.failed ? 'exit status 1: Failed to open /srv/j' : '' }; } };
  }

  it.each<[string, { stderr?: string; failed?: boolean }, string | undefined]>([
    ['a journal it reads', {}, undefined],
    ['no journal files (exit 0, said on stderr)', { stderr: 'No journal files were found.\n' }, 'journalctl: No journal files were found'],
    ['no permission (exit 0, said on stderr)', { stderr: 'Hint: You are currently not seeing messages from other users and the system.\nNo journal files were opened due to insufficient permissions.\n' }, 'journalctl: No journal files were opened due to insufficient permissions'],
    ['journalctl failing', { failed: true }, 'journalctl failed (exit status 1: Failed to open /srv/j)'],
  ])('%s', async (_name, result, expected) => {
    const calls: (readonly string[])[] = [];
    expect(await journalUnreadable('/srv/j', runner(result, calls))).toBe(expected);
    expect(calls).toEqual([['--lines=0', '--no-pager', '--directory=/srv/j']]);
  });
});
