import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
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

const jsonLines = (stdout: string): Record<string, unknown>[] => stdout.trim().split('\n').map((text) => JSON.parse(text) as Record<string, unknown>);
const numbered = (path: string): { line: number; text: string }[] =>
  readFileSync(path, 'utf8').split('\n').filter((text, index, all) => text !== '' || index < all.length - 1).map((text, index) => ({ line: index + 1, text }));
const field = (text: string, name: string): string => new RegExp(` ${name}=(\\S*)`).exec(text)?.[1] ?? '';
// The kernel prints IPv6 addresses in full; a URL host is the compressed form.
function sourceOf(text: string): string {
  const raw = field(text, 'SRC');
  return raw.includes(':') ? new URL(`http://[${raw}]`).hostname.slice(1, -1) : raw;
}

describe('knockwatch parse', () => {
  const sample = join(root, 'logs-samples/kern.log');

  it('prints an event for every kernel LOG line with a valid address, and nothing for the rest', async () => {
    const result = await cli('parse', sample, '--filter', 'netfilter', '--timezone', 'UTC', '--json');
    expect(result.code).toBe(0);
    const objects = jsonLines(result.stdout);
    // What each LOG line says, read with plain string tests instead of the filter.
    const expected = numbered(sample).filter(({ text }) => /^\S+ \S+ kernel: .* SRC=/.test(text) && isIP(sourceOf(text)) !== 0)
      .map(({ line, text }) => ({
        line, type: 'knock', time: new Date(`${text.slice(0, 26)}Z`).toISOString(), src: sourceOf(text),
        proto: field(text, 'PROTO').toLowerCase(), dport: Number(field(text, 'DPT')), spt: Number(field(text, 'SPT')), iface: field(text, 'IN'),
      }));
    expect(expected).toHaveLength(40);
    const events = objects.filter((o) => o.type === 'knock');
    expect(events).toEqual(expected.map((event) => expect.objectContaining(event)));
    expect(objects.filter((o) => o.type === undefined)).toEqual([{ line: 38, invalid: 'invalid source address "999.1.1.1"' }]);
    // the rest: kernel lines that are no LOG line (missed) and the one of another program (ignored)
    expect(objects.at(-1)).toEqual({ type: 'summary', filter: 'netfilter', lines: 49, matched: 40, missed: 7, ignored: 1, invalid: 1, otherProtocol: 0, oversize: 0 });
  });

  it('shows the events and the counts as text', async () => {
    const result = await cli('parse', sample, '--filter', 'netfilter', '--timezone', 'UTC');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('lines 49: matched 40, missed 7, ignored 1 (other tags or not syslog), invalid 1, other protocol 0, oversize 0');
    expect(result.stdout).toContain('line 11: 2026-11-22 09:00:12.100 knock 203.0.113.7 -> 192.0.2.1 tcp 7000 from port 59679 [SYN] in eth0 prefix "KNOCK"\n');
    expect(result.stdout).toContain('line 37: 2026-11-22 09:00:47.000 knock 2001:db8:5::7 -> 2001:db8::1 udp 9000 from port 34795 in eth0 prefix "KNOCK"\n');
    expect(result.stdout).toContain('INVALID invalid source address "999.1.1.1"');
  });

  // An ICMP knock shows its type and length: the length is what an `icmp:N` step matches.
  it('shows an ICMP knock\'s type and length as text', async () => {
    const result = await cli('parse', join(root, 'logs-samples/netfilter.log'), '--timezone', 'UTC');
    // echo requests of both families, and an echo reply (no step)
    expect(result.stdout.split('\n').filter((text) => /^line (55|58|134): /.test(text))).toEqual([
      'line 55: 2026-11-22 01:44:00.000 knock 198.51.100.5 -> 192.0.2.1 icmp type 8 length 84 (step icmp:84) in eth0 prefix "KNOCK"',
      'line 58: 2026-11-22 01:44:00.100 knock 2001:db8::5 -> 2001:db8::1 icmp type 128 length 104 (step icmp:104) in eth0 prefix "KNOCK"',
      'line 134: 2026-11-22 10:26:47.506 knock 10.214.9.2 -> 10.214.9.1 icmp type 0 length 100 in kwicmpa prefix "KWICMP-R4"',
    ]);
  });

  it('finds in the annotated netfilter samples exactly what their annotations expect', async () => {
    const samples = join(root, 'logs-samples/netfilter.log');
    const result = await cli('parse', samples, '--json');
    const objects = jsonLines(result.stdout);
    const lines = numbered(samples);
    // `# expect: {...}` describes the line after it.
    const annotations = lines.filter(({ text }) => text.startsWith('# expect: '))
      .map(({ line, text }) => ({ line: line + 1, expect: JSON.parse(text.slice('# expect: '.length)) as Record<string, unknown> }));
    // Flags are annotated as the kernel prints them ("SYN"), events carry bits.
    const matches = annotations.filter((a) => a.expect.match === true)
      .map(({ line, expect: { match: _match, injection: _injection, flags: _flags, ...fields } }) => expect.objectContaining({ line, type: 'knock', ...fields }));
    const invalid = annotations.filter((a) => a.expect.invalid === true).map((a) => a.line);
    const other = annotations.filter((a) => a.expect.other === true);
    expect([matches.length, invalid.length, other.length]).toEqual([53, 6, 13]);
    expect(objects.filter((o) => o.type === 'knock')).toEqual(matches);
    expect(objects.filter((o) => o.type === undefined).map((o) => o.line)).toEqual(invalid);
    expect(objects.at(-1)).toMatchObject({ type: 'summary', filter: 'netfilter', lines: lines.length, matched: matches.length, otherProtocol: other.length });
  });

  it('reads the sshd log with --filter sshd: an event for every sshd line but its start-up lines', async () => {
    const auth = join(root, 'logs-samples/auth.log');
    const text = await cli('parse', auth, '--filter', 'sshd', '--timezone', 'UTC');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Filter sshd (tags: sshd, sshd-session)');
    expect(text.stdout).toContain('ssh login accepted 203.0.113.7 pid 2211 user "alice" publickey');
    expect(text.stdout).toContain('ssh logout session-closed (by pid) pid 2300 user "dave"');
    // per class, how many lines and which kinds
    expect(text.stdout).toContain([
      '  failure 8: invalid-user 2, failed 6',
      '  login 6: accepted 3, session-opened 3',
      '  logout 9: disconnected 6, session-closed 3',
      '  noise 2: received-disconnect 2',
    ].join('\n'));
    const objects = jsonLines((await cli('parse', auth, '--filter', 'sshd', '--timezone', 'UTC', '--json')).stdout);
    const expected = numbered(auth).filter(({ text: line }) => /^\S+ \S+ sshd\[\d+\]: /.test(line) && !line.includes('Server listening'))
      .map(({ line, text: raw }) => {
        const src = / from (\S+) port /.exec(raw)?.[1] ?? / user \S+ (\S+) port /.exec(raw)?.[1] ?? / by (\S+) port /.exec(raw)?.[1];
        return expect.objectContaining({ line, type: 'ssh', class: expect.any(String), kind: expect.any(String), pid: Number(/sshd\[(\d+)\]/.exec(raw)?.[1]), ...(src === undefined ? {} : { src }) });
      });
    expect(expected).toHaveLength(25);
    expect(objects.filter((o) => o.type === 'ssh')).toEqual(expected);
    expect(objects.filter((o) => o.type === 'ssh' && o.class === 'failure').map((o) => `${String(o.line)} ${String(o.kind)}`).slice(0, 2)).toEqual(['8 invalid-user', '9 failed']);
    expect(objects.at(-1)).toEqual({
      type: 'summary', filter: 'sshd', lines: 28, matched: 25, missed: 2, ignored: 1, invalid: 0, otherProtocol: 0, oversize: 0,
      classes: {
        login: { lines: 6, kinds: { 'accepted': 3, 'session-opened': 3 } },
        failure: { lines: 8, kinds: { 'invalid-user': 2, 'failed': 6 } },
        logout: { lines: 9, kinds: { 'disconnected': 6, 'session-closed': 3 } },
        noise: { lines: 2, kinds: { 'received-disconnect': 2 } },
      },
    });
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
    // no sshd source: sshd features are off, close_on_logout does nothing
    [[], ['auth_source        none (sshd features are off)', 'maxretry           off (no sshd source)', 'logout_grace       off (no sshd source)', 'close_on_logout    off (no sshd source)', '[d] close_on_logout: no effect without an auth log']],
    // --auth-log supplies it, as a file
    [['--auth-log', 'AUTH'], ['auth_source        file:AUTH (--auth-log)', 'maxretry           5 sshd failures', 'close_on_logout    yes']],
  ])('shows sshd features as they are with %j', async (flags, expected) => {
    const file = join(dir, 'sshd.ini');
    writeFileSync(file, '[options]\nfirewall = dry-run\nauth_source = none\n[d]\nsequence = 1\nclose_on_logout = yes\n');
    const result = await cli('check', '--config', file, '--log', kernLog, ...flags.map((flag) => flag.replace('AUTH', authLog)));
    expect(result.code).toBe(0);
    for (const text of expected) expect(result.stdout).toContain(text.replace('AUTH', authLog));
    expect(result.stdout).toContain('firewall: dry-run applies nothing to the firewall');
  });

  it.each([
    // --log: a file, named as such, with the warning that any local user can write to it
    [['--log', 'KERN'], 'auth_source = none\n', ['kernel_source      file:KERN (--log)', 'auth_source        none (sshd features are off)'], ['KERN is a syslog file: any local user can write lines to it']],
    // kern_log and auth_log of old configs are file: sources; one warning names both
    [[], 'kern_log = KERN\nauth_log = AUTH\n', ['kernel_source      file:KERN\n', 'auth_source        file:AUTH\n'], ['KERN and AUTH are syslog files: any local user can write lines to it (logger -t kernel …); use kernel_source = kmsg / auth_source = journal']],
  ])('names the sources and warns about syslog files with %j', async (flags, options, shown, warnings) => {
    const file = join(dir, 'sources.ini');
    const fill = (text: string): string => text.replaceAll('KERN', kernLog).replaceAll('AUTH', authLog);
    writeFileSync(file, `[options]\nfirewall = dry-run\n${fill(options)}[d]\nsequence = 1\n`);
    const result = await cli('check', '--config', file, ...flags.map(fill));
    expect(result.code).toBe(0);
    for (const text of shown) expect(result.stdout).toContain(fill(text));
    const warned = result.stdout.split('\n').filter((text) => text.includes('syslog file'));
    expect(warned.map((text) => text.trim().slice(0, fill(warnings[0] ?? '').length))).toEqual(warnings.map(fill));
  });
});
