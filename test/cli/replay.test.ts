import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { cli } from '../helpers/cli.js';

const root = packageRoot();
const kernLog = join(root, 'logs-samples/kern.log');
const dir = mkdtempSync(join(tmpdir(), 'kw-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function decisionLines(stdout: string): string[] {
  return stdout.split('\n').filter((text) => /^\d{4}-\d\d-\d\d /.test(text));
}

type JsonDecision = Record<string, unknown>;

// Every decision with -v (steps included), the summary last.
async function jsonReplay(...args: string[]): Promise<JsonDecision[]> {
  const { stdout } = await cli('replay', '--json', '-v', ...args);
  return stdout.trim().split('\n').map((text) => JSON.parse(text) as JsonDecision);
}

const readLines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').filter((text) => text !== '');
const kernLines = (): string[] => readLines(kernLog);
const lineTime = (text: string): string => new Date(text.slice(0, 26) + 'Z').toISOString();
// The kernel prints IPv6 addresses in full; a URL host is the compressed form.
function sourceOf(text: string): string {
  const raw = / SRC=(\S+)/.exec(text)?.[1] ?? '';
  return raw.includes(':') ? new URL(`http://[${raw}]`).hostname.slice(1, -1) : raw;
}

// The ports of logs-samples/knockwatch.ini: its doors and trap_ports.
const DOOR_PORTS = new Set(['7000', '8000', '9000', '7500', '8500']);

// The summary's line counts, read from the samples with plain string tests instead of the
// filters: a line is a knock, a LOG line on another port, an invalid one, a kernel line that
// is no LOG line (missed), an sshd event, or another program's line (ignored).
function countLines(kern: string[], auth: string[]): Record<string, number> {
  const counts = { lines: kern.length + auth.length, matched: 0, missed: 0, ignored: 0, sshEvents: 0, invalid: 0, otherPort: 0, knocks: 0 };
  for (const text of kern) {
    if (!/^\S+ \S+ kernel: /.test(text)) counts.ignored++;
    else if (!text.includes(' SRC=')) counts.missed++;
    else if (!DOOR_PORTS.has(/ DPT=(\d+)/.exec(text)?.[1] ?? '')) counts.otherPort++;
    else if (isIP(sourceOf(text)) === 0) counts.invalid++;
    else counts.knocks++;
  }
  for (const text of auth) {
    if (!/^\S+ \S+ sshd\[\d+\]: /.test(text)) counts.ignored++;
    else if (text.includes('Server listening')) counts.missed++;
    else counts.sshEvents++;
  }
  return { ...counts, matched: counts.knocks + counts.sshEvents };
}

// The door table from the decisions: an attempt starts with step 1, ends completed or broken.
function doorTable(decisions: readonly JsonDecision[]): Record<string, { started: number; completed: number; broken: number }> {
  const count = (door: string, test: (d: JsonDecision) => boolean): number => decisions.filter((d) => d.door === door && test(d)).length;
  return Object.fromEntries(['openSSH', 'closeSSH'].map((door) => [door, {
    started: count(door, (d) => d.type === 'step' && d.step === 1),
    completed: count(door, (d) => d.type === 'completed'),
    broken: count(door, (d) => d.type === 'broken'),
  }]));
}

describe('knockwatch replay', () => {
  it('opens each grant at its last knock for open_for, and ends it by the close door or on expiry', async () => {
    const decisions = await jsonReplay(kernLog);
    const lifecycle = decisions.filter((d) => ['open', 'extend', 'close', 'expire'].includes(d.type as string))
      .map(({ type, time, src, door, expires, by }) => [type, src, door, time, expires ?? by ?? null]);
    expect(lifecycle).toEqual([
      ['open', '203.0.113.7', 'openSSH', '2026-11-22T09:00:12.730Z', '2026-11-22T09:00:42.730Z'],
      ['extend', '203.0.113.7', 'openSSH', '2026-11-22T09:00:33.650Z', '2026-11-22T09:01:03.650Z'],
      ['open', '203.0.113.50', 'openSSH', '2026-11-22T09:00:37.600Z', '2026-11-22T09:01:07.600Z'],
      ['open', '2001:db8:5::7', 'openSSH', '2026-11-22T09:00:47.000Z', '2026-11-22T09:01:17.000Z'],
      ['open', '198.51.100.200', 'openSSH', '2026-11-22T09:00:50.600Z', '2026-11-22T09:01:20.600Z'],
      ['close', '203.0.113.7', 'openSSH', '2026-11-22T09:00:55.800Z', 'closeSSH'],
      ['extend', '198.51.100.200', 'openSSH', '2026-11-22T09:01:05.600Z', '2026-11-22T09:01:35.600Z'],
      ['expire', '203.0.113.50', 'openSSH', '2026-11-22T09:01:07.600Z', null],
      ['expire', '2001:db8:5::7', 'openSSH', '2026-11-22T09:01:17.000Z', null],
    ]);
    // Every open and extend comes at the time of the source's 9000/udp line in the log, for 22/tcp.
    const lastKnocks = kernLines().filter((text) => text.includes('PROTO=UDP') && text.includes('DPT=9000'))
      .map((text) => `${sourceOf(text)} ${lineTime(text)}`);
    const grants = decisions.filter((d) => d.type === 'open' || d.type === 'extend').map((d) => `${d.src as string} ${d.time as string}`);
    expect(grants).toHaveLength(6);
    expect(lastKnocks).toEqual(expect.arrayContaining(grants));
    expect(decisions.filter((d) => d.type === 'open').map((d) => d.ports)).toEqual(Array.from({ length: 4 }, () => [{ port: 22, proto: 'tcp' }]));
  });

  it('says who was refused and why', async () => {
    const refusals = (await jsonReplay(kernLog)).filter((d) => ['broken', 'trapped', 'refused', 'flags', 'retransmit'].includes(d.type as string))
      .map(({ type: _type, time: _time, ...rest }) => ({ type: _type, ...rest }));
    expect(refusals).toEqual([
      // 7000, then 9000/udp where 8000 was due
      { type: 'broken', src: '198.51.100.23', door: 'openSSH', reason: 'wrong-port', got: { port: 9000, proto: 'udp' }, step: 2, expected: { port: 8000, proto: 'tcp' } },
      // 7000 at 25.0 s, 8000 at 28.2 s: 9000 at 31.4 s is past the 5 s
      { type: 'broken', src: '198.51.100.40', door: 'openSSH', reason: 'timeout', got: 2, of: 3, within: 5000 },
      { type: 'broken', src: '198.51.100.40', door: 'closeSSH', reason: 'timeout', got: 1, of: 3, within: 5000 },
      // nc's retransmitted SYN: same source port, one knock
      { type: 'retransmit', src: '203.0.113.50', knock: { port: 7000, proto: 'tcp' }, spt: 35057 },
      // the scanner hits the trap port 7500 and is refused for trap_for (5 min)
      { type: 'broken', src: '198.51.100.9', door: 'openSSH', reason: 'trap', port: { port: 7500, proto: 'tcp' } },
      { type: 'trapped', src: '198.51.100.9', until: '2026-11-22T09:05:40.008Z', knock: { port: 7500, proto: 'tcp' } },
      { type: 'refused', src: '198.51.100.9', until: '2026-11-22T09:05:40.008Z', reason: 'trapped' },
      { type: 'flags', src: '198.51.100.61', door: 'openSSH', knock: { port: 7000, proto: 'tcp' }, flags: 'ACK', expected: 'syn,!ack' },
    ]);
  });

  it('sums up the log as its lines and the decisions say', async () => {
    const decisions = await jsonReplay(kernLog);
    expect(decisions.at(-1)).toEqual({
      type: 'summary', ...countLines(kernLines(), []), oversize: 0, otherPrefix: 0,
      doors: doorTable(decisions), granted: ['203.0.113.7', '203.0.113.50', '2001:db8:5::7', '198.51.100.200'], stillOpen: [{ src: '198.51.100.200', door: 'openSSH' }],
    });
  });

  it('pins the decisions of the story one by one', async () => {
    const { stdout } = await cli('replay', kernLog);
    const decisions = decisionLines(stdout).map((text) => text.split(/\s+/).slice(2, 5).join(' '));
    expect(decisions).toEqual([
      'OPEN 203.0.113.7 openSSH', // a user knocks correctly
      'BROKEN 198.51.100.23 openSSH', // wrong order
      'BROKEN 198.51.100.40 openSSH', // too slow
      'EXTEND 203.0.113.7 openSSH', // knocks again while open
      'BROKEN 198.51.100.40 closeSSH', // the slow user's last knock began a close attempt that ran out
      'OPEN 203.0.113.50 openSSH', // nc retransmitted its first SYN: still one knock
      'BROKEN 198.51.100.9 openSSH', // the sequential scan hits a trap port
      'TRAPPED 198.51.100.9 trap',
      'FLAGS 198.51.100.61 openSSH', // an ACK scan does not fit syn,!ack
      'OPEN 2001:db8:5::7 openSSH', // the IPv6 user
      'OPEN 198.51.100.200 openSSH', // a user who will try passwords (see auth.log)
      'CLOSE 203.0.113.7 openSSH', // the close sequence
      'EXTEND 198.51.100.200 openSSH', // without the auth log nothing stops a knock again
      'EXPIRE 203.0.113.50 openSSH',
      'EXPIRE 2001:db8:5::7 openSSH',
    ]);
    expect(stdout).toContain('wrong-port: 9000/udp at step 2 (expected 8000/tcp)');
    expect(stdout).toContain('timeout: 2 of 3 steps within 5s');
    expect(stdout).toMatch(/lines read\s+49 {2}\(matched 34, missed 7, ignored 1, invalid 1, oversize 0\)/);
    expect(stdout).toMatch(/other ports\s+6 LOG lines/);
    expect(stdout).toContain('addresses granted: 4 (203.0.113.7, 203.0.113.50, 2001:db8:5::7, 198.51.100.200)');
    expect(stdout).toMatch(/ {2}door {6}started {2}completed {2}broken\n {2}openSSH {9}9 {10}6 {7}3\n {2}closeSSH {8}2 {10}1 {7}1\n/);
    expect(stdout).toContain('still open at the end of the log: 198.51.100.200 openSSH 22/tcp until 2026-11-22 09:01:35.600\n');
    expect(stdout).toContain('invalid lines: 1 × invalid source address "999.1.1.1"\n');
  });

  it('adds every step with -v', async () => {
    const { stdout } = await cli('replay', '-v', kernLog);
    expect(stdout).toMatch(/STEP\s+203\.0\.113\.7\s+openSSH\s+step 1\/3 7000\/tcp/);
    expect(stdout).toMatch(/RETRANSMIT\s+203\.0\.113\.50/);
    expect(stdout).toMatch(/REFUSED\s+198\.51\.100\.9/);
  });

  it('prints one JSON decision per line with --json, then a summary', async () => {
    const { stdout } = await cli('replay', '--json', kernLog);
    const objects = stdout.trim().split('\n').map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(objects.filter((o) => o.type === 'open').map((o) => o.src)).toEqual(['203.0.113.7', '203.0.113.50', '2001:db8:5::7', '198.51.100.200']);
    expect(objects.at(-1)).toMatchObject({ type: 'summary', lines: 49, knocks: 34 });
    expect(objects[0]).toMatchObject({ type: 'open', time: '2026-11-22T09:00:12.730Z', expires: '2026-11-22T09:00:42.730Z' });
  });

  it('reads several files in order, and .gz files, with the same decisions', async () => {
    const lines = readFileSync(kernLog, 'utf8').split('\n');
    const first = join(dir, 'kern.log.1.gz');
    const second = join(dir, 'kern.log');
    writeFileSync(first, gzipSync(lines.slice(0, 20).join('\n') + '\n'));
    writeFileSync(second, lines.slice(20).join('\n'));
    const whole = await cli('replay', kernLog);
    const parts = await cli('replay', first, second);
    expect(decisionLines(parts.stdout)).toEqual(decisionLines(whole.stdout));
  });

  it('prints the decisions made before a file that breaks off, then says why, exit 1', async () => {
    const broken = join(dir, 'kern.log.2.gz');
    // A gzip header, then no deflate data.
    writeFileSync(broken, Buffer.concat([gzipSync('').subarray(0, 10), Buffer.alloc(64, 0xff)]));
    const whole = await cli('replay', kernLog);
    const result = await cli('replay', kernLog, broken);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('knockwatch: ');
    expect(decisionLines(result.stdout)).toEqual(decisionLines(whole.stdout));
  });

  it('reads standard input for -, with the same decisions as from the file', async () => {
    const stdout = execFileSync(process.execPath, [join(root, 'dist/src/cli/bin.js'), 'replay', '-'], { input: readFileSync(kernLog) }).toString();
    const fromFile = decisionLines((await cli('replay', kernLog)).stdout);
    expect(fromFile).toHaveLength(15);
    expect(decisionLines(stdout)).toEqual(fromFile);
  });

  it.each([
    [['replay', '/nonexistent/kern.log'], 'knockwatch: /nonexistent/kern.log: no such file'],
    [['replay'], 'knockwatch: no log file given'],
    [['replay', '/tmp'], 'knockwatch: /tmp: is a directory'],
    [['replay', '--bogus', 'x'], "knockwatch: Unknown option '--bogus'"],
    [['frobnicate'], 'knockwatch: unknown command "frobnicate"'],
  ])('%j is a usage error, exit 2', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toContain(message);
    expect(result.stdout).toBe('');
  });

  it('refuses a bad config before reading any log, exit 2', async () => {
    const bad = join(dir, 'bad.ini');
    writeFileSync(bad, '[d]\nsequence = 99999\n');
    const result = await cli('replay', '--config', bad, kernLog);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad} [d] sequence: expected a port (1-65535), found "99999"`);
    expect(result.stdout).toBe('');
  });
});

describe('knockwatch replay with the auth log', () => {
  const authLog = join(root, 'logs-samples/auth.log');

  it('ties logins and logouts to the grants, and sums up both logs', async () => {
    const decisions = await jsonReplay(kernLog, '--auth-log', authLog);
    const sessions = decisions.filter((d) => d.type === 'login' || d.type === 'logout').map(({ type, time, src, user, pid }) => [type, time, src, user ?? null, pid]);
    expect(sessions).toEqual([
      ['login', '2026-11-22T09:00:14.512Z', '203.0.113.7', 'alice', 2211],
      ['login', '2026-11-22T09:00:38.402Z', '203.0.113.50', 'dave', 2300],
      ['login', '2026-11-22T09:00:48.210Z', '2001:db8:5::7', 'erin', 2400],
      ['logout', '2026-11-22T09:00:52.001Z', '203.0.113.50', null, 2300],
      ['logout', '2026-11-22T09:01:20.101Z', '203.0.113.7', null, 2211],
      ['logout', '2026-11-22T09:01:30.000Z', '2001:db8:5::7', null, 2400],
    ]);
    // Every failed login of the auth log is counted against its address, and only those.
    const failures = readLines(authLog).filter((text) => text.includes('Failed password')).map((text) => / from (\S+) port/.exec(text)?.[1]);
    expect(decisions.filter((d) => d.type === 'failure').map((d) => d.src)).toEqual(failures);
    expect(decisions.at(-1)).toEqual({
      type: 'summary', ...countLines(kernLines(), readLines(authLog)), oversize: 0, otherPrefix: 0,
      doors: doorTable(decisions), granted: ['203.0.113.7', '203.0.113.50', '2001:db8:5::7', '198.51.100.200'], stillOpen: [],
    });
  });

  it('merges both logs by time: a logout closes, failed logins revoke and ban', async () => {
    const { stdout } = await cli('replay', kernLog, '--auth-log', authLog);
    const decisions = decisionLines(stdout).map((text) => text.split(/\s+/).slice(2, 4).join(' '));
    // dave logs in after his knock and out again: his grant closes before it would expire
    expect(decisions).toContain('LOGOUT 203.0.113.50');
    expect(stdout).toMatch(/09:00:52\.001 {2}CLOSE\s+203\.0\.113\.50\s+openSSH\s+by logout/);
    expect(decisions).not.toContain('EXPIRE 203.0.113.50');
    // 198.51.100.200 knocked, then failed five times: revoked and banned, its new knock refused
    expect(stdout).toMatch(/09:00:57\.900 {2}BANNED\s+198\.51\.100\.200\s+5 failed logins: banned until 2026-11-22 09:10:57\.900/);
    expect(stdout).toMatch(/09:00:57\.900 {2}CLOSE\s+198\.51\.100\.200\s+openSSH\s+by revoked/);
    expect(decisions).not.toContain('EXTEND 198.51.100.200');
    // 192.0.2.99 failed once: below maxretry, nothing happens
    expect(stdout).not.toContain('192.0.2.99');
    // the order of the merged timeline follows the clock
    const times = decisionLines(stdout).map((text) => text.slice(0, 23));
    expect([...times].sort()).toEqual(times);
  });

  it('shows the refused knock of the banned address with -v', async () => {
    const { stdout } = await cli('replay', '-v', kernLog, '--auth-log', authLog);
    expect(stdout).toMatch(/09:01:05\.000 {2}REFUSED\s+198\.51\.100\.200\s+banned until/);
  });
});

describe('hostile input', () => {
  it('skips and counts garbage, huge and truncated lines and impossible values, never deciding', async () => {
    const good = readFileSync(kernLog, 'utf8').split('\n').find((text) => text.includes('SRC=203.0.113.7') && text.includes('DPT=7000')) ?? '';
    const hostile = join(dir, 'hostile.log');
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    writeFileSync(hostile, Buffer.concat([
      garbage, Buffer.from('\n'),
      Buffer.from(`${good.slice(0, 40)}${'A'.repeat(10 * 1024 * 1024)}\n`),
      Buffer.from(`${good.slice(0, good.length - 30)}\n`),
      Buffer.from(`${good.replace('SRC=203.0.113.7', 'SRC=999.1.1.1')}\n`),
      Buffer.from(`${good.replace('DPT=7000', 'DPT=99999')}\n`),
      Buffer.from(`${good.replace('SRC=203.0.113.7', 'SRC=203.0.113.7\u0000')}\n`),
    ]));
    const result = await cli('replay', '--json', hostile);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] ?? '{}') as Record<string, number>;
    expect(summary).toMatchObject({ oversize: 1, knocks: 0, invalid: 2 });
    expect(summary.matched).toBe(0);
  });
});

describe('the config replay uses', () => {
  it('names the demo config on stderr when no --config is given, and nothing with one', async () => {
    const demo = await cli('replay', kernLog);
    expect(demo.stderr).toBe(`knockwatch: no --config given; using the demo config ${join(root, 'logs-samples/knockwatch.ini')}.\n`);
    const given = await cli('replay', kernLog, '--config', join(root, 'logs-samples/knockwatch.ini'));
    expect(given.stderr).toBe('');
    expect(given.stdout).toBe(demo.stdout);
  });
});
