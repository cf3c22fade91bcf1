import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { cli } from '../helpers/cli.js';
import { debian } from '../helpers/debian-knockd.js';

const root = packageRoot();
const dir = mkdtempSync(join(tmpdir(), 'kw-cli-'));
const kernLog = join(dir, 'kern.log');
const authLog = join(dir, 'auth.log');
writeFileSync(kernLog, '');
writeFileSync(authLog, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('knockwatch parse', () => {
  it('counts matched, missed, ignored and invalid lines and shows the events', async () => {
    const result = await cli('parse', join(root, 'logs-samples/kern.log'), '--filter', 'netfilter', '--timezone', 'UTC');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('lines 49: matched 40, missed 7, ignored 1 (other tags or not syslog), invalid 1, oversize 0');
    expect(result.stdout).toContain('line 11: 2026-11-22 09:00:12.100 knock 203.0.113.7 -> 192.0.2.1 tcp 7000 from port');
    expect(result.stdout).toMatch(/knock 2001:db8:5::7 -> 2001:db8::1 udp 9000/);
    expect(result.stdout).toContain('INVALID invalid source address "999.1.1.1"');
  });

  it('prints JSON events and a summary with --json', async () => {
    const result = await cli('parse', join(root, 'logs-samples/netfilter.log'), '--json');
    const objects = result.stdout.trim().split('\n').map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(objects.at(-1)).toMatchObject({ type: 'summary', filter: 'netfilter', matched: 19, invalid: 6 });
    expect(objects.find((o) => o.src === 'fd00:231::2')).toMatchObject({ proto: 'tcp', dport: 7000 });
  });

  it('reads the sshd log with --filter sshd', async () => {
    const result = await cli('parse', join(root, 'logs-samples/auth.log'), '--filter', 'sshd', '--timezone', 'UTC');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Filter sshd (tags: sshd, sshd-session)');
    expect(result.stdout).toMatch(/lines 28: matched 25, missed 2, ignored 1/);
    expect(result.stdout).toContain('ssh accepted 203.0.113.7 pid 2211 user "alice" publickey');
    expect(result.stdout).toContain('ssh session-closed (by pid) pid 2300 user "dave"');
  });

  it('refuses an unknown filter with exit 2', async () => {
    const result = await cli('parse', join(root, 'logs-samples/kern.log'), '--filter', 'nope');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--filter: no filter "nope"');
  });
});

describe('knockwatch check', () => {
  it('prints the normalized doors of a valid config', async () => {
    const result = await cli('check', '--config', join(root, 'logs-samples/knockwatch.ini'), '--log', join(root, 'logs-samples/kern.log'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[openSSH]');
    expect(result.stdout).toMatch(/sequence\s+7000\/tcp, 8000\/tcp, 9000\/udp/);
    expect(result.stdout).toMatch(/opens\s+22\/tcp for 30s/);
    expect(result.stdout).toMatch(/closes\s+openSSH/);
  });

  it('prints every problem and exits 2', async () => {
    const bad = join(dir, 'knockd.conf');
    writeFileSync(bad, '[options]\n  Interface = eth0\n[a]\n  sequence = 1,2,x\n[b]\n  seq_timeout = -1\n');
    const result = await cli('check', '--config', bad);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the config has 3 problems');
    expect(result.stderr).toContain(`${bad} [a] sequence: expected a port (1-65535), found "x"`);
    expect(result.stderr).toContain(`${bad} [b] sequence: expected the knock sequence`);
    expect(result.stderr).toContain(`${bad} [b] seq_timeout: expected a duration`);
  });

  it('says which file is missing', async () => {
    const result = await cli('check', '--config', join(dir, 'missing.ini'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing.ini: expected a readable config file, found "no such file"');
  });

  it('shows the firewall chosen and the translation of knockd commands, and prints warnings', async () => {
    const file = join(dir, 'debian-nft.conf');
    writeFileSync(file, debian('  firewall = nftables\n  whitelist = 192.0.2.10', false));
    const result = await cli('check', '--config', file, '--log', kernLog);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/firewall\s+nftables\n/);
    expect(result.stdout).toMatch(/\[openSSH\][^[]*opens\s+22\/tcp until closed\n\s+translated\s+openSSH opens 22\/tcp \(from its command\)/);
    expect(result.stdout).toMatch(/translated\s+closeSSH closes openSSH's 22\/tcp/);
    expect(result.stdout).toContain(`\nWarnings:\n  ${file} [openSSH] command: translated, not run (firewall = nftables): openSSH opens 22/tcp (from its command).`);
  });

  it.each([
    // not given: the choice and why
    [[], 'command (auto: doors have start_command)'],
    // --firewall overrides the config
    [['--firewall', 'dry-run'], 'dry-run (from --firewall)'],
  ])('names the firewall chosen with %j, never "auto" alone', async (flags, shown) => {
    const file = join(dir, 'debian-auto.conf');
    writeFileSync(file, debian('', false));
    const result = await cli('check', '--config', file, '--log', kernLog, ...flags);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`firewall\\s+${shown.replace(/[()]/g, '\\$&')}\n`));
    // a one-shot knockd command
    expect(result.stdout).toContain('until closed');
  });

  it.each([
    // no auth log: sshd features are off, close_on_logout does nothing
    [[], ['maxretry           off (no auth_log)', 'logout_grace       off (no auth_log)', 'close_on_logout    off (no auth_log)', '[d] close_on_logout: no effect without an auth log']],
    // --auth-log supplies it
    [['--auth-log', 'AUTH'], ['auth_log           AUTH', 'maxretry           5 sshd failures', 'close_on_logout    yes']],
  ])('shows sshd features as they are with %j', async (flags, expected) => {
    const file = join(dir, 'sshd.ini');
    writeFileSync(file, '[options]\nfirewall = dry-run\n[d]\nsequence = 1\nclose_on_logout = yes\n');
    const result = await cli('check', '--config', file, '--log', kernLog, ...flags.map((flag) => flag.replace('AUTH', authLog)));
    expect(result.code).toBe(0);
    for (const text of expected) expect(result.stdout).toContain(text.replace('AUTH', authLog));
    expect(result.stdout).toContain('firewall: dry-run applies nothing to the firewall');
  });
});

