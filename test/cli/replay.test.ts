import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe('knockwatch replay', () => {
  it('tells the story of logs-samples/kern.log exactly as pinned in test/golden', async () => {
    const result = await cli('replay', kernLog);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(join(root, 'test/golden/kern-log.replay.txt'), 'utf8'));
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

  it('reads standard input for -', () => {
    const stdout = execFileSync(process.execPath, [join(root, 'dist/src/cli/bin.js'), 'replay', '-'], { input: readFileSync(kernLog) }).toString();
    expect(decisionLines(stdout)).toHaveLength(15);
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

  it('continues the story as pinned in test/golden', async () => {
    const result = await cli('replay', kernLog, '--auth-log', authLog);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(join(root, 'test/golden/kern-auth.replay.txt'), 'utf8'));
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
