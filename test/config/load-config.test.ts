import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError, formatProblem } from '../../src/config/problems.js';

function problems(text: string): string[] {
  try {
    parseConfig(text, 'knockwatch.ini');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

// The knockd.conf from knockd's own documentation, unchanged.
const KNOCKD_CONF = `[options]
        UseSyslog
        Interface = eth0

[openSSH]
        sequence    = 7000,8000,9000
        seq_timeout = 5
        command     = /sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
        tcpflags    = syn

[closeSSH]
        sequence    = 9000,8000,7000
        seq_timeout = 5
        command     = /sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
        tcpflags    = syn

[opencloseSMTP]
        one_time_sequences = /dev/null
        seq_timeout = 15
        tcpflags    = fin,!ack
        start_command = /usr/sbin/iptables -A INPUT -s %IP% -p tcp --dport 25 -j ACCEPT
        cmd_timeout   = 5
        stop_command  = /usr/sbin/iptables -D INPUT -s %IP% -p tcp --dport 25 -j ACCEPT
`;

describe('config: knockd.conf compatibility', () => {
  it('loads a knockd.conf with knockd defaults and reports unused options', () => {
    const config = parseConfig(KNOCKD_CONF.replace('one_time_sequences = /dev/null', 'sequence = 2222:udp,3333:tcp,4444:udp'), 'knockd.conf');
    expect(config.doors.map((door) => door.name)).toEqual(['openSSH', 'closeSSH', 'opencloseSMTP']);
    const open = config.doors[0];
    expect(open?.knock).toEqual({ kind: 'static', sequence: [{ port: 7000, proto: 'tcp' }, { port: 8000, proto: 'tcp' }, { port: 9000, proto: 'tcp' }] });
    expect(open?.seqTimeout).toBe(5000);
    expect(open?.tcpflags?.text).toBe('syn');
    expect(open?.startCommand).toContain('%IP%');
    // a one-shot command (no stop_command, no cmd_timeout): until closed, as under knockd
    expect(open?.openFor).toBe(0);
    const smtp = config.doors[2];
    expect(smtp?.knock.kind === 'static' && smtp.knock.sequence.map((step) => `${step.port}/${step.proto}`)).toEqual(['2222/udp', '3333/tcp', '4444/udp']);
    expect(smtp?.tcpflags).toMatchObject({ text: 'fin,!ack' });
    expect(smtp?.openFor).toBe(5000);
    expect(smtp?.stopCommand).toContain('-D INPUT');
    expect(config.unused).toEqual(['[options] UseSyslog', '[options] Interface']);
  });

  it('uses knockd defaults for keys left out (seq_timeout 25 s, cmd_timeout 10 s)', () => {
    const config = parseConfig('[door]\nsequence = 1,2\n', 'knockd.conf');
    expect(config.doors[0]).toMatchObject({ seqTimeout: 25_000, openFor: 10_000, order: 'sequence', strict: false });
  });

  it('reads keys case-insensitively, as knockd does', () => {
    const config = parseConfig('[Door]\nSequence = 1,2\nSeq_Timeout = 3\n', 'knockd.conf');
    expect(config.doors[0]?.seqTimeout).toBe(3000);
  });
});

describe('config: problems', () => {
  it('reports every problem at once, each with file, section, key, expected and found', () => {
    const found = problems(`[options]
firewall = pf
whitelist = 192.0.2.0/24, 300.1.1.1
bogus = 1

[openSSH]
sequence = 7000,70000,9000
seq_timeout = soon
tcpflags = syn,xmas
colour = blue

[closeSSH]
sequence = 9000:sctp
closes = nothing
`);
    expect(found).toEqual([
      'knockwatch.ini [options] firewall: expected nftables | iptables | command | dry-run, found "pf"',
      'knockwatch.ini [options] whitelist: expected IPv4/IPv6 addresses or networks (192.0.2.0/24, 2001:db8::/48), found "300.1.1.1"',
      'knockwatch.ini [options] bogus: expected an option of [options], found "unknown key bogus"',
      'knockwatch.ini [openSSH] sequence: expected a port (1-65535), found "70000"',
      'knockwatch.ini [openSSH] seq_timeout: expected a duration (seconds, or a number with ms, s, m, h or d), found "soon"',
      'knockwatch.ini [openSSH] tcpflags: expected flags from fin, syn, rst, psh, ack, urg (! negates), found "xmas"',
      'knockwatch.ini [openSSH] colour: expected a door key, found "unknown key colour"',
      'knockwatch.ini [closeSSH] sequence: expected tcp or udp after "9000:", found "9000:sctp"',
      'knockwatch.ini [closeSSH] closes: expected the name of another door, found "nothing"',
    ]);
  });

  it.each([
    // sequences
    ['[d]\nsequence = 0', 'expected a port (1-65535), found "0"'],
    ['[d]\nsequence = 7000,,8000', 'expected a comma-separated list of ports'],
    ['[d]\nsequence = ' + Array.from({ length: 33 }, (_, i) => 1000 + i).join(','), 'expected at most 32 steps, found "33 steps"'],
    ['[d]\nseq_timeout = 5', 'sequence: expected the knock sequence (e.g. 7000,8000,9000:udp), found nothing'],
    // values
    ['[d]\nsequence = 1\nstrict = maybe', 'strict: expected yes or no, found "maybe"'],
    ['[d]\nsequence = 1\norder = random', 'order: expected sequence or any, found "random"'],
    ['[d]\nsequence = 1\ndestination = 10.0.0.256', 'destination: expected an IPv4 or IPv6 address'],
    ['[d]\nsequence = 1\ncmd_timeout = 5\nopen_for = 6', 'open_for: expected cmd_timeout or open_for, not both'],
    ['[options]\ntimezone = Mars/Olympus\n[d]\nsequence = 1', 'timezone: expected an IANA time zone'],
    ['[options]\nmax_tracked = 0\n[d]\nsequence = 1', 'max_tracked: expected a whole number from 1 to 10000000, found "0"'],
    ['[options]\nlog_prefix = a"b\n[d]\nsequence = 1', 'log_prefix: expected a printable log prefix of at most 28 characters, without " or \\'],
    // structure
    ['[options]\nfirewall = dry-run\n', 'expected at least one door section, found "only [options]"'],
    ['# only a comment\n', 'expected at least one door section, found nothing'],
    ['sequence = 1\n[d]\nsequence = 1', 'line 1: expected a [section] before the first key'],
    ['[d\nsequence = 1', 'line 1: expected a section header like [openSSH]'],
  ])('%j is refused', (text, message) => {
    expect(problems(text).join('\n')).toContain(message);
  });

  it.each([
    // knockwatch's own LOG rules: only their prefix counts
    ['[options]\nfirewall = nftables\n', 'knockwatch'],
    ['[options]\nfirewall = iptables\n', 'knockwatch'],
    ['', 'knockwatch'],
    ['[options]\nfirewall = nftables\nlog_prefix = KNOCK\n', 'KNOCK'],
    // the admin's LOG rules: any prefix
    ['[options]\nfirewall = dry-run\n', undefined],
    ['[options]\nfirewall = command\n', undefined],
  ])('log prefix for %j: %s', (options, prefix) => {
    expect(parseConfig(`${options}[d]\nsequence = 1\n`, 'k.ini').options.logPrefix).toBe(prefix);
  });

  it('leaves the prefix open for a knockd.conf with commands', () => {
    expect(parseConfig('[d]\nsequence = 1\ncommand = /bin/true %IP%\n', 'knockd.conf').options.logPrefix).toBeUndefined();
  });

  // The kernel sees a dual-stack socket's IPv4 clients as IPv4: the mapped form would match none.
  it('reads an IPv4-mapped whitelist entry as the IPv4 address or network it means', () => {
    const config = parseConfig('[options]\nwhitelist = ::ffff:192.0.2.10, ::FFFF:198.51.100.0/120, ::ffff:c633:6401, ::ffff:0:0/96, ::ffff:1:0/112, 64:ff9b::/96, 2001:db8::/48, 2001:db8::ffff:c000:201, ::1:ffff:c000:201\n[open]\nsequence = 7000,8000\n', 'knockwatch.ini');
    expect(config.options.whitelist.map((network) => [network.family, network.text])).toEqual([
      [4, '192.0.2.10/32'], [4, '198.51.100.0/24'], [4, '198.51.100.1/32'], [4, '0.0.0.0/0'], [4, '0.1.0.0/16'], [6, '64:ff9b::/96'], [6, '2001:db8::/48'],
      // ffff:IPV4 after other bits is an IPv6 address like any other, not that IPv4 client
      [6, '2001:db8::ffff:c000:201/128'], [6, '::1:ffff:c000:201/128'],
    ]);
  });

  it('accepts the knockwatch keys of DESIGN.md', () => {
    const config = parseConfig(`[options]
kern_log = /var/log/kern.log
auth_log = /var/log/auth.log
firewall = nftables
whitelist = 192.0.2.10, 198.51.100.0/24, 2001:db8::/48
state_file = /var/lib/knockwatch/state.json
log_prefix = KNOCK
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
tcpflags = syn
open = 22/tcp, 2222/tcp
cmd_timeout = 30
close_on_logout = yes
order = any
strict = yes
destination = 2001:DB8::1
[closeSSH]
sequence = 9000,8000,7000
closes = openSSH
`, 'knockwatch.ini');
    expect(config.options.whitelist.map((network) => network.text)).toEqual(['192.0.2.10/32', '198.51.100.0/24', '2001:db8::/48']);
    expect(config.doors[0]).toMatchObject({ openFor: 30_000, closeOnLogout: true, order: 'any', strict: true, destination: '2001:db8::1' });
    expect(config.doors[0]?.open).toEqual([{ port: 22, proto: 'tcp' }, { port: 2222, proto: 'tcp' }]);
    expect(config.doors[1]).toMatchObject({ closes: 'openSSH', open: [] });
  });
});
