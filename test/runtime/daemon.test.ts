import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import type { FirewallBackend } from '../../src/firewall/backend.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import { NftablesBackend } from '../../src/firewall/nftables.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { MAX_TRIES } from '../../src/runtime/firewall-queue.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const filter = loadFilterFile(builtinFilterPath('netfilter'));
const authFilter = loadFilterFile(builtinFilterPath('sshd'));
const noCommands: CommandRunner = { run: async () => ({ exitCode: 1, stdout: '', stderr: '', failed: true, reason: 'no commands in this test' }) };

const CONFIG = `[options]
firewall = dry-run
log_prefix = KNOCK
[open]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open_for = 30
`;

interface Harness {
  dir: string;
  log: string;
  authLog: string;
  record: () => string[];
  messages: string[];
  clock: { now: () => number; set: (t: number) => void };
  daemon: (configText?: string, backend?: FirewallBackend) => Daemon;
}

const dirs: string[] = [];
const daemons: Daemon[] = [];
afterEach(() => {
  for (const daemon of daemons.splice(0)) daemon.halt();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function harness(): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'kw-daemon-'));
  dirs.push(dir);
  const log = join(dir, 'kern.log');
  writeFileSync(log, '');
  const authLog = join(dir, 'auth.log');
  writeFileSync(authLog, '');
  let now = T0;
  const clock = { now: () => now, set: (t: number) => { now = t; } };
  const messages: string[] = [];
  const configPath = join(dir, 'knockwatch.ini');
  return {
    dir, log, authLog, messages, clock,
    record: () => (existsSync(join(dir, 'record')) ? readFileSync(join(dir, 'record'), 'utf8').trim().split('\n') : []),
    daemon: (configText = CONFIG, backend?: FirewallBackend) => {
      writeFileSync(configPath, configText);
      const daemon = new Daemon(
        { configPath, kernLog: log, authLog, stateFile: join(dir, 'state.json'), dryRunFile: join(dir, 'record') },
        {
          clock, runner: noCommands, filter, authFilter, logger: { log: (level, message) => messages.push(`${level} ${message}`) },
          ...(backend === undefined ? {} : { createBackend: () => backend }),
        },
        loadConfigFile(configPath),
      );
      daemons.push(daemon);
      return daemon;
    },
  };
}

function knockLines(at: number, src = '203.0.113.7'): string {
  const line = (offset: number, port: number, udp = false): string => {
    const stamp = new Date(at + offset).toISOString().replace('Z', '000+00:00');
    const tail = udp ? 'PROTO=UDP SPT=40000 DPT=9000 LEN=9' : `PROTO=TCP SPT=${40000 + port} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0`;
    return `${stamp} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF ${tail} \n`;
  };
  return line(0, 7000) + line(300, 8000) + line(600, 9000, true);
}

// Appends to the log and lets the daemon read it and finish its firewall work.
async function feed(daemon: Daemon, log: string, text: string): Promise<void> {
  appendFileSync(log, text);
  daemon.poll();
  await daemon.settle();
}

describe('daemon', () => {
  it('opens on a knock and closes when the grant expires, on its clock', async () => {
    const h = harness();
    const daemon = h.daemon();
    await daemon.start();
    await feed(daemon, h.log, knockLines(T0 + 1000));
    expect(h.record()).toEqual(['start 0', '+203.0.113.7 open']);
    h.clock.set(T0 + 31_700);
    daemon.poll();
    await daemon.settle();
    expect(h.record().at(-1)).toBe('-203.0.113.7 open');
  });

  it('keeps a grant across a crash and expires it on time after the restart', async () => {
    const h = harness();
    const first = h.daemon();
    await first.start();
    await feed(first, h.log, knockLines(T0 + 1000));
    first.halt();
    h.clock.set(T0 + 10_000);
    const second = h.daemon();
    await second.start();
    await second.settle();
    expect(second.grants().map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(h.record()).toEqual(['start 0', '+203.0.113.7 open', 'start 1']);
    h.clock.set(T0 + 31_000);
    second.poll();
    await second.settle();
    expect(h.record().at(-1)).toBe('start 1');
    h.clock.set(T0 + 31_700);
    second.poll();
    await second.settle();
    expect(h.record().at(-1)).toBe('-203.0.113.7 open');
  });

  it('resumes the log where it stopped without acting on knocks older than the timeout', async () => {
    const h = harness();
    const first = h.daemon();
    await first.start();
    first.poll();
    await first.stop('SIGTERM');
    // While stopped: an old knock (long before the restart) and a recent one.
    appendFileSync(h.log, knockLines(T0 + 1000, '198.51.100.1'));
    h.clock.set(T0 + 60_000);
    appendFileSync(h.log, knockLines(T0 + 58_000, '198.51.100.2'));
    const second = h.daemon();
    await second.start();
    second.poll();
    await second.settle();
    expect(second.grants().map((grant) => grant.src)).toEqual(['198.51.100.2']);
    expect(h.messages.filter((message) => message.includes('Resuming'))).toEqual([`info Resuming ${h.log} at byte 0.`, `info Resuming ${h.authLog} at byte 0.`]);
    expect(h.messages).toContain("info Not acting on 3 knocks older than the doors' seq_timeout (logged while knockwatch was not running).");
  });

  it('says at start which sources it reads and why, and warns once that they are syslog files', async () => {
    const h = harness();
    await h.daemon().start();
    const warning = `${h.log} and ${h.authLog} are syslog files: any local user can write lines to it (logger -t kernel …); use kernel_source = kmsg / auth_source = journal to take knocks only from the kernel and sshd lines only from sshd.`;
    expect(h.messages.filter((message) => message.includes('syslog file'))).toEqual([`warning ${warning}`]);
    expect(h.messages.filter((message) => message.includes('Started with'))).toEqual([
      `notice Started with ${join(h.dir, 'knockwatch.ini')}, firewall dry-run, reading kernel: file:${h.log} (--log); sshd: file:${h.authLog} (--auth-log).`,
    ]);
  });

  it('refuses an invalid config on reload and keeps the old one', async () => {
    const h = harness();
    const daemon = h.daemon();
    await daemon.start();
    writeFileSync(join(h.dir, 'knockwatch.ini'), '[open]\nsequence = 70000\n');
    expect(await daemon.reload()).toBe(false);
    expect(h.messages.at(-1)).toMatch(/^error Kept the running config: .*sequence: expected a port \(1-65535\), found "70000"/);
    await feed(daemon, h.log, knockLines(T0 + 1000));
    expect(daemon.grants()).toHaveLength(1);
  });

  it('takes a valid new config on reload and keeps live grants of doors that remain', async () => {
    const h = harness();
    const daemon = h.daemon();
    await daemon.start();
    await feed(daemon, h.log, knockLines(T0 + 1000));
    writeFileSync(join(h.dir, 'knockwatch.ini'), CONFIG.replace('open_for = 30', 'open_for = 60'));
    expect(await daemon.reload()).toBe(true);
    expect(daemon.grants().map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(h.record().at(-1)).toBe('start 1');
    // A knock after the reload is decided by the new config: open_for is 60 s now.
    await feed(daemon, h.log, knockLines(T0 + 5000, '198.51.100.4'));
    const fresh = daemon.grants().find((grant) => grant.src === '198.51.100.4');
    expect(fresh === undefined ? undefined : fresh.expires - fresh.opened).toBe(60_000);
  });

  it('keeps used one-time sequences used across a reload', async () => {
    const h = harness();
    writeFileSync(join(h.dir, 'seqs'), '7000,8000,9000:udp\n7100,8100,9100:udp\n');
    const config = CONFIG.replace('sequence = 7000,8000,9000:udp', `one_time_sequences = ${join(h.dir, 'seqs')}`);
    const daemon = h.daemon(config);
    await daemon.start();
    await feed(daemon, h.log, knockLines(T0 + 1000, '198.51.100.1'));
    expect(daemon.grants().map((grant) => grant.src)).toEqual(['198.51.100.1']);
    expect(await daemon.reload()).toBe(true);
    // The first sequence was used: knocking it again opens nothing.
    await feed(daemon, h.log, knockLines(T0 + 5000, '198.51.100.2'));
    expect(daemon.grants().map((grant) => grant.src)).toEqual(['198.51.100.1']);
  });

  it('refuses to start, touching nothing, when the log to follow does not exist', async () => {
    const h = harness();
    rmSync(h.log);
    const daemon = h.daemon();
    await expect(daemon.start()).rejects.toThrow(/kern_log .*kern\.log: no such file/);
    expect(h.record()).toEqual([]);
    expect(existsSync(join(h.dir, 'state.json'))).toBe(false);
  });

  it('waits for a log that goes away while it runs (rotation) and reads it when it is back', async () => {
    const h = harness();
    const daemon = h.daemon();
    await daemon.start();
    const since = h.messages.length;
    rmSync(h.log);
    daemon.poll();
    writeFileSync(h.log, knockLines(T0 + 1000));
    daemon.poll();
    await daemon.settle();
    expect(daemon.grants()).toHaveLength(1);
    // A routine rotation: no warning.
    expect(h.messages.slice(since).filter((message) => message.includes(h.log))).toEqual([
      `info ${h.log} was moved away or deleted (rotation?); waiting for the new file.`,
      `info ${h.log} is there again.`,
    ]);
  });

  it('writes grants and the log position to the state file', async () => {
    const h = harness();
    const daemon = h.daemon();
    await daemon.start();
    appendFileSync(h.log, knockLines(T0 + 1000));
    daemon.poll();
    const state = JSON.parse(readFileSync(join(h.dir, 'state.json'), 'utf8')) as { grants: { src: string }[]; logs: Record<string, { offset: number }> };
    expect(state.grants.map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(state.logs[h.log]?.offset).toBe(readFileSync(h.log).length);
  });
});

describe('daemon stop', () => {
  it.each([
    // iptables, commands, dry-run: the grant ends with the daemon and is not kept
    { nftables: false, kept: [] },
    // nftables: the kernel expires it; it stays in the state file for the next start
    { nftables: true, kept: ['203.0.113.7'] },
    // nftables, a grant until closed: nothing expires it, so it is not kept (that nftables'
    // stop closes it is tested on a real nft: nftables-real.test.ts)
    { nftables: true, kept: [], openFor: 0 },
  ])('grants kept by a stop, with nftables\' rule of what ends by itself: $nftables, open_for $openFor', async ({ nftables, kept, openFor = 30 }) => {
    const h = harness();
    const endsItself = nftables ? NftablesBackend.prototype.endsItself : DryRunBackend.prototype.endsItself;
    const backend = Object.assign(new DryRunBackend(join(h.dir, 'record')), { endsItself });
    const daemon = h.daemon(CONFIG.replace('open_for = 30', `open_for = ${openFor}`), backend);
    await daemon.start();
    await feed(daemon, h.log, knockLines(T0 + 1000));
    await daemon.stop('SIGTERM');
    expect(h.record()).toEqual(['start 0', '+203.0.113.7 open', 'stop']);
    const state = JSON.parse(readFileSync(join(h.dir, 'state.json'), 'utf8')) as { grants: { src: string }[] };
    expect(state.grants.map((grant) => grant.src)).toEqual(kept);
  });
});

describe('daemon and a failing firewall', () => {
  it('does not try an open again once its grant has closed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const h = harness();
      const backend = new DryRunBackend(join(h.dir, 'record'));
      let opens = 0;
      let fail: (error: Error) => void = () => undefined;
      backend.open = async () => {
        opens++;
        await new Promise((_resolve, reject) => { fail = reject; });
      };
      const daemon = h.daemon(CONFIG, backend);
      await daemon.start();
      appendFileSync(h.log, knockLines(T0 + 1000));
      daemon.poll();
      await vi.advanceTimersByTimeAsync(0);
      expect(opens).toBe(1);
      // The grant expires while its open is still under way, and the open then fails.
      h.clock.set(T0 + 40_000);
      daemon.poll();
      fail(new Error('iptables: Resource temporarily unavailable'));
      await daemon.settle();
      await vi.advanceTimersByTimeAsync(120_000);
      await daemon.settle();
      expect(opens).toBe(1);
      expect(h.messages.filter((m) => m.includes('Firewall open'))).toEqual([
        'warning Firewall open of open for 203.0.113.7 failed: iptables: Resource temporarily unavailable.',
      ]);
      expect(h.record()).toEqual(['start 0', '-203.0.113.7 open']);
    } finally {
      vi.useRealTimers();
    }
  });


  it('logs a failed removal and retries it until the grant is gone', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const h = harness();
      let failures = 2;
      const closed: string[] = [];
      const backend = new DryRunBackend();
      backend.close = async (grant) => {
        if (failures-- > 0) throw new Error('nft -f -: exit status 1: Could not process rule');
        closed.push(grant.src);
      };
      const daemon = h.daemon(CONFIG, backend);
      await daemon.start();
      appendFileSync(h.log, knockLines(T0 + 1000));
      daemon.poll();
      h.clock.set(T0 + 40_000);
      daemon.poll();
      await daemon.settle();
      expect(closed).toEqual([]);
      expect(h.messages.filter((m) => m.startsWith('warning Firewall close of open for 203.0.113.7 failed (try 1): nft -f -: exit status 1: Could not process rule; trying again in 1s.'))).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1000);
      await daemon.settle();
      await vi.advanceTimersByTimeAsync(2000);
      await daemon.settle();
      expect(closed).toEqual(['203.0.113.7']);
      expect(h.messages.filter((m) => m.includes('Firewall close of open for 203.0.113.7 failed'))).toHaveLength(2);
      expect(h.messages.filter((m) => m.startsWith('error'))).toEqual([]);
      // "Closed" is said once the close is in force, not when it was decided.
      expect(h.messages.filter((m) => m.includes('Closed open for 203.0.113.7'))).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('daemon and a firewall change that can never work', () => {
  it('says "Opened" only once the change is in force, and gives up after a bounded number of tries with one ERROR', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const h = harness();
      const backend = new DryRunBackend();
      let tries = 0;
      backend.open = async () => {
        tries++;
        throw new Error('/usr/sbin/iptables -A INPUT -s 203.0.113.7 -j ACCEPT: /usr/sbin/iptables not found');
      };
      const daemon = h.daemon(CONFIG, backend);
      await daemon.start();
      await feed(daemon, h.log, knockLines(T0 + 1000));
      expect(h.messages.filter((m) => m.includes('Opened'))).toEqual([]);
      // Five minutes of retry timers: the tries stop long before.
      for (let i = 0; i < 5; i++) {
        await vi.advanceTimersByTimeAsync(60_000);
        await daemon.settle();
      }
      expect(tries).toBe(MAX_TRIES);
      const errors = h.messages.filter((m) => m.startsWith('error'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error Gave up on firewall open of open for 203\.0\.113\.7 after \d+ tries: .*not found\. Check that/);
      expect(h.messages.filter((m) => m.includes('Opened'))).toEqual([]);
      // A grant that is not in the firewall is no grant: the next knock opens afresh.
      expect(daemon.grants()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says "Opened" once the firewall change succeeded', async () => {
    const h = harness();
    const daemon = h.daemon();
    await daemon.start();
    await feed(daemon, h.log, knockLines(T0 + 1000));
    expect(h.messages.filter((m) => m.includes('Opened'))).toEqual(['notice Opened 22/tcp for 203.0.113.7 (door open, 30s).']);
  });
});

function sshLine(at: number, pid: number, message: string): string {
  return `${new Date(at).toISOString().replace('Z', '000+00:00')} gate sshd[${pid}]: ${message}\n`;
}

describe('daemon and the sshd log', () => {
  const AUTH_CONFIG = CONFIG.replace('[options]\n', '[options]\nmaxretry = 3\nbantime = 60\n').replace('open_for = 30\n', 'open_for = 30\nclose_on_logout = yes\n');

  it('closes the grant when the last session of the address ends', async () => {
    const h = harness();
    const daemon = h.daemon(AUTH_CONFIG);
    await daemon.start();
    await feed(daemon, h.log, knockLines(T0 + 1000));
    await feed(daemon, h.authLog, sshLine(T0 + 3000, 501, 'Accepted publickey for alice from 203.0.113.7 port 50000 ssh2'));
    expect(daemon.grants()).toHaveLength(1);
    await feed(daemon, h.authLog, sshLine(T0 + 9000, 501, 'pam_unix(sshd:session): session closed for user alice'));
    expect(daemon.grants()).toHaveLength(0);
    expect(h.record().slice(-1)).toEqual(['-203.0.113.7 open']);
    expect(h.messages.filter((m) => m.includes('Closed open'))).toEqual(['notice Closed open for 203.0.113.7 (logout).']);
  });

  it('revokes and bans after maxretry failures, and keeps the ban across a restart', async () => {
    const h = harness();
    const first = h.daemon(AUTH_CONFIG);
    await first.start();
    await feed(first, h.log, knockLines(T0 + 1000));
    for (const [i, at] of [3000, 4000, 5000].entries()) {
      await feed(first, h.authLog, sshLine(T0 + at, 600 + i, 'Failed password for root from 203.0.113.7 port 50001 ssh2'));
    }
    expect(first.grants()).toHaveLength(0);
    expect(h.record().slice(-2)).toEqual(['!203.0.113.7', '-203.0.113.7 open']);
    first.halt();
    h.clock.set(T0 + 20_000);
    const second = h.daemon(AUTH_CONFIG);
    await second.start();
    // Banned: a correct knock opens nothing.
    await feed(second, h.log, knockLines(T0 + 21_000));
    expect(second.grants()).toHaveLength(0);
    // The ban (60 s from the third failure) ends; the address may knock again.
    h.clock.set(T0 + 66_000);
    second.poll();
    await second.settle();
    expect(h.record().at(-1)).toBe('~!203.0.113.7');
    await feed(second, h.log, knockLines(T0 + 67_000));
    expect(second.grants()).toHaveLength(1);
  });
});

describe('daemon and a ruleset someone else flushed', () => {
  it('notices within the verify period and installs its piece again, grants included', async () => {
    const h = harness();
    const backend = new DryRunBackend(join(h.dir, 'record'));
    let present = true;
    backend.verify = async () => present;
    const daemon = h.daemon(CONFIG, backend);
    await daemon.start();
    await feed(daemon, h.log, knockLines(T0 + 1000));
    h.clock.set(T0 + 10_000);
    daemon.poll();
    await daemon.settle();
    expect(h.record().at(-1)).toBe('+203.0.113.7 open');
    present = false;
    h.clock.set(T0 + 12_100);
    daemon.poll();
    await daemon.settle();
    expect(h.record().at(-1)).toBe('start 1');
    expect(h.messages).toContain('warning The dry-run ruleset is not what knockwatch installed (flushed or edited by someone else?); installing it again.');
  });
});

describe('daemon and a reload whose firewall does not install', () => {
  it('keeps reading the log exactly as before, time zone included', async () => {
    const h = harness();
    const backend = new DryRunBackend();
    let starts = 0;
    backend.start = async () => {
      if (starts++ > 0) throw new Error('nft -f -: exit status 1');
    };
    const daemon = h.daemon(`[options]\ntimezone = UTC\n${CONFIG.replace('[options]\n', '')}`, backend);
    await daemon.start();
    writeFileSync(join(h.dir, 'knockwatch.ini'), `[options]\ntimezone = America/New_York\n${CONFIG.replace('[options]\n', '')}`);
    expect(await daemon.reload()).toBe(false);
    // (This backend fails every start after the first: the repair's too.)
    expect(h.messages.slice(-2)).toEqual([
      expect.stringContaining('its firewall did not install') as unknown,
      expect.stringMatching(/repair/) as unknown,
    ]);
    // A syslog stamp without a zone: read in UTC, as the running config says.
    const line = (port: string, second: number) => `Nov 22 09:00:0${second} gate kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF ${port} \n`;
    await feed(daemon, h.log, line('PROTO=TCP SPT=40001 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0', 1)
      + line('PROTO=TCP SPT=40002 DPT=8000 WINDOW=64240 RES=0x00 SYN URGP=0', 2) + line('PROTO=UDP SPT=40003 DPT=9000 LEN=9', 3));
    expect(daemon.grants().map((grant) => new Date(grant.opened).toISOString())).toEqual(['2026-11-22T09:00:03.000Z']);
  });
});

describe('daemon and a reload whose firewall installs only half', () => {
  // iptables installs IPv4, then IPv6: a failure at IPv6 leaves the refused config's IPv4
  // rules in force. The running config's ruleset goes back at once, not at the next check.
  it('puts the running config\'s ruleset back before the reload returns', async () => {
    const h = harness();
    const backend = new DryRunBackend();
    const starts: string[] = [];
    backend.start = async () => {
      starts.push(starts.length === 1 ? 'refused' : 'start');
      if (starts.length === 2) throw new Error('ip6tables-restore: exit status 1');
    };
    const daemon = h.daemon(CONFIG, backend);
    await daemon.start();
    expect(await daemon.reload()).toBe(false);
    expect(starts).toEqual(['start', 'refused', 'start']);
  });
});

describe('daemon and a ruleset that installs only half', () => {
  it.each([
    // nothing of knockwatch's was there: what got in goes again
    { existed: false, record: ['half', 'remove'] },
    // a running knockwatch's piece was there (a restart): it stays, never removed
    { existed: true, record: ['half'] },
  ])('existed before: $existed', async ({ existed, record }) => {
    const h = harness();
    const backend = new DryRunBackend(join(h.dir, 'record'));
    backend.exists = async () => existed;
    backend.start = async () => {
      appendFileSync(join(h.dir, 'record'), 'half\n');
      throw new Error('ip6tables-restore: timed out after 15000 ms');
    };
    const daemon = h.daemon(CONFIG, backend);
    await expect(daemon.start()).rejects.toThrow('the dry-run ruleset did not install: ip6tables-restore: timed out');
    expect(h.record()).toEqual(record);
  });
});

describe('daemon reports of invalid lines', () => {
  it('sums them up once a minute, and goes on doing so after a reload', async () => {
    const h = harness();
    const daemon = h.daemon();
    await daemon.start();
    const bad = (at: number) => knockLines(at).split('\n')[0]?.replace('SRC=203.0.113.7', 'SRC=999.1.1.1') + '\n';
    await feed(daemon, h.log, bad(T0 + 1000) + bad(T0 + 1100));
    expect(h.messages.filter((m) => m.startsWith('warning Skipped'))).toEqual(['warning Skipped 2 invalid log lines (invalid source address "999.1.1.1").']);
    expect(await daemon.reload()).toBe(true);
    h.clock.set(T0 + 61_000);
    await feed(daemon, h.log, bad(T0 + 61_000));
    expect(h.messages.filter((m) => m.startsWith('warning Skipped')).at(-1)).toBe('warning Skipped 1 invalid log line (invalid source address "999.1.1.1").');
  });
});
