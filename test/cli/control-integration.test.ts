import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliDeps } from '../../src/cli/output.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import type { StatusReport } from '../../src/runtime/control-types.js';
import { knockLine, T0 } from '../helpers/reload-race.js';

// Ban times are printed on the local clock.
const zone = process.env.TZ;
beforeAll(() => { process.env.TZ = 'UTC'; });
afterAll(() => { process.env.TZ = zone; });

const dir = mkdtempSync(join(tmpdir(), 'kw-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A = '203.0.113.7';
const B = '198.51.100.9';
const kernLog = join(dir, 'kern.log');
const authLog = join(dir, 'auth.log');
const stateFile = join(dir, 'state.json');
const record = join(dir, 'record');
const socket = join(dir, 'run', 'control.sock');
const configPath = join(dir, 'knockwatch.ini');
writeFileSync(kernLog, '');
writeFileSync(authLog, '');
writeFileSync(configPath, `[options]\nfirewall = dry-run\nlog_prefix = KNOCK\nmaxretry = 2\nbantime = 600\ncontrol_socket = ${socket}\n`
  + '[openSSH]\nsequence = 7000,8000,9000:udp\nseq_timeout = 5\nopen = 22/tcp\nopen_for = 30\n');

// dry-run runs no commands; one that is asked for anyway fails the test's expectations.
const commands: string[] = [];
const runner: CommandRunner = {
  run: async (file, args) => {
    commands.push([file, ...args].join(' '));
    return { exitCode: 1, stdout: '', stderr: '', failed: true, reason: 'no commands in this test' };
  },
};
// The host clock stays at T0: lines are stamped just after it and nothing expires meanwhile.
const clock = { now: () => T0 };

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const deps: CliDeps = { stdout: { write: (text) => { stdout += text; } }, stderr: { write: (text) => { stderr += text; } }, env: {}, clock, runner };
  const code = await main(argv, deps);
  return { code, stdout, stderr };
}

async function status(): Promise<StatusReport> {
  const result = await cli(['status', '--control-socket', socket, '--json']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as StatusReport;
}

// Polls until `check` holds; a daemon that never gets there fails the test after 4 s.
async function until<T>(what: string, probe: () => Promise<T> | T, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 4000;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const recorded = (): string[] => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : []);
const saved = (): { grants: { src: string; door: string }[]; bans: { src: string }[] } => JSON.parse(readFileSync(stateFile, 'utf8')) as never;
const failureLine = (at: number, pid: number): string => `${new Date(at).toISOString().replace('Z', '000+00:00')} gate sshd[${pid}]: Invalid user x from ${B} port 40000\n`;

describe('status, close and unban against a running daemon', () => {
  const signals = new EventEmitter();
  let daemonStderr = '';
  let exit: Promise<number>;
  let stopped = false;

  beforeAll(async () => {
    exit = main(['run', '--config', configPath, '--log', kernLog, '--auth-log', authLog, '--state-file', stateFile, '--record', record], {
      stdout: { write: () => undefined }, stderr: { write: (text) => { daemonStderr += text; } }, env: {}, signals, clock, runner,
    });
    await until('the control socket', () => daemonStderr, (text) => text.includes(`Answering status, unban and close on ${socket}.`));
  });
  // A test that failed before the last one must not leave the daemon running.
  afterAll(async () => {
    if (stopped) return;
    signals.emit('SIGTERM', 'SIGTERM');
    await exit;
  });

  it('shows the backend and the sources where they stand', async () => {
    const report = await status();
    expect(report).toMatchObject({ pid: process.pid, now: T0, startedAt: T0, config: configPath, firewall: { backend: 'dry-run', pending: 0 } });
    expect(report.sources.map(({ name, kind, lag }) => ({ name, kind, lag }))).toEqual([
      { name: kernLog, kind: 'file', lag: 0 },
      { name: authLog, kind: 'file', lag: 0 },
    ]);
    expect(report.sources[0]?.position).toMatchObject({ ino: statSync(kernLog).ino, offset: 0 });
    expect(report.pipeline).toMatchObject({ grants: [], bans: [], stats: { lines: 0, knocks: 0, opens: 0, bans: 0 } });
  });

  it('shows a grant, a ban, the sources\' new positions and the counters once the logs say so', async () => {
    const knocks = [0, 1, 2].map((step) => knockLine(A, step)).join('');
    appendFileSync(kernLog, knocks);
    appendFileSync(authLog, failureLine(T0 + 2000, 301) + failureLine(T0 + 3000, 302));
    const report = await until('the grant and the ban', status, (value) => value.pipeline.grants.length > 0 && value.pipeline.bans.length > 0);
    expect(report.pipeline.grants).toEqual([{ src: A, door: 'openSSH', ports: [{ port: 22, proto: 'tcp' }], opened: T0 + 1600, expires: T0 + 31_600 }]);
    expect(report.pipeline.bans).toEqual([{ src: B, until: T0 + 603_000, offenses: 1 }]);
    expect(report.pipeline.stats).toEqual({ lines: 5, knocks: 3, sshEvents: 2, invalid: 0, stale: 0, evicted: 0, evictedAttempts: 0, opens: 1, closes: 0, bans: 1 });
    expect(report.sources.map(({ name, position, lag, lastLineAt }) => ({ name, offset: (position as { offset: number }).offset, lag, lastLineAt }))).toEqual([
      { name: kernLog, offset: statSync(kernLog).size, lag: 0, lastLineAt: T0 },
      { name: authLog, offset: statSync(authLog).size, lag: 0, lastLineAt: T0 },
    ]);
    expect(recorded()).toEqual(['start 0', `+${A} openSSH`, `!${B}`]);

    const text = await cli(['status', '--control-socket', socket]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines.slice(1, 3)).toEqual(['firewall dry-run: not verified yet, 0 changes pending', 'sources: 2']);
    expect(lines[3]).toMatch(new RegExp(`^  ${kernLog} \\(file\\): at dev \\d+, ino ${statSync(kernLog).ino}, offset ${statSync(kernLog).size}, .*, lag 0 bytes, last line 0 s ago$`));
    expect(lines.slice(5)).toEqual([
      'grants: 1',
      `  ${A}  openSSH  22/tcp  expires in 32 s`,
      'bans: 1',
      `  ${B}  until 2026-11-22 09:10:03.000 (in 10 min 3 s)  1 offense`,
      // A's knocks are remembered (retransmits) though its attempt is done.
      'attempts in progress: 1 source tracked',
      '  openSSH  0',
      'since start: lines 5, knocks 3, opens 1, closes 0, bans 1, invalid 0, stale 0',
      'evicted: 0 sources (0 attempts in progress dropped) to stay under max_tracked and max_first_steps',
    ]);
  });

  it('closes the grant: in the firewall, in the state file and in status', async () => {
    // The socket path comes from the config this time.
    expect(await cli(['close', A, 'openSSH', '--config', configPath])).toEqual({ code: 0, stdout: `Closed openSSH for ${A}.\n`, stderr: '' });
    expect(recorded().at(-1)).toBe(`-${A} openSSH`);
    expect(saved().grants).toEqual([]);
    const report = await status();
    expect(report.pipeline.grants).toEqual([]);
    expect(report.pipeline.stats.closes).toBe(1);
    // Once closed there is nothing left to close.
    expect(await cli(['close', A, '--control-socket', socket])).toEqual({ code: 1, stdout: '', stderr: `knockwatch: ${A} has no open door.\n` });
  });

  it('lifts the ban: in the firewall, in the state file and in status', async () => {
    expect(saved().bans.map((ban) => ban.src)).toEqual([B]);
    expect(await cli(['unban', B, '--control-socket', socket])).toEqual({ code: 0, stdout: `Lifted the ban of ${B}.\n`, stderr: '' });
    expect(recorded().at(-1)).toBe(`~!${B}`);
    expect(saved().bans).toEqual([]);
    expect((await status()).pipeline.bans).toEqual([]);
  });

  it('stops on SIGTERM, removes its socket, and status then says no daemon runs', async () => {
    stopped = true;
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await exit).toBe(0);
    expect(daemonStderr).toContain('Stopped.');
    expect(existsSync(socket)).toBe(false);
    expect(commands).toEqual([]);
    expect(await cli(['status', '--control-socket', socket])).toEqual({ code: 1, stdout: '', stderr: `knockwatch is not running (no daemon answers on ${socket})\n` });
  });
});
