import { describe, expect, it } from 'vitest';
import type { Door } from '../../src/config/types.js';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { buildRestoreScript, IptablesBackend } from '../../src/firewall/iptables.js';
import { buildNftRuleset, NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { createBackend } from '../../src/firewall/select-backend.js';
import type { Grant } from '../../src/access/grant-table.js';
import { config } from '../helpers/engine.js';
import { recorder } from '../helpers/recorder.js';

// firewall = command: knockd's commands own the firewall, knockwatch only LOGs the knocks.
const CONFIG = config(`[options]
firewall = command
whitelist = 192.0.2.10
log_prefix = KNOCK
trap_ports = 7500
[openSSH]
sequence = 7000,8000,9000:udp
start_command = /sbin/iptables -I INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
stop_command = /sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
cmd_timeout = 30
`);
const [openSsh] = CONFIG.doors as [Door];
const oneTime: Door = { ...openSsh, name: 'once', knock: { kind: 'one-time', sequences: [[{ port: 6100, proto: 'tcp' }], [{ port: 6200, proto: 'udp' }]] } };
const DOORS: Door[] = [
  { ...openSsh, startCommand6: '/sbin/ip6tables -I INPUT -s %IP% -p tcp --dport 22 -j ACCEPT', stopCommand6: '/sbin/ip6tables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT' },
  oneTime,
];
const plan = buildFirewallPlan({ ...CONFIG, doors: DOORS }, { logOnly: true });
const grant = (src: string, door = 'openSSH'): Grant => ({ src, door, ports: [{ port: 22, proto: 'tcp' }], opened: 1000, expires: 31_000 });

describe('the log-only ruleset of firewall = command', () => {
  it('nftables: LOG for every knock port (door steps, one-time steps, trap ports), nothing else', () => {
    const lines = buildNftRuleset(plan, [grant('203.0.113.7')], 1000, [{ src: '203.0.113.9', until: 9000 }]).split('\n').map((l) => l.trim());
    const rules = lines.slice(lines.indexOf('chain input {') + 2, -3);
    expect(rules).toEqual([
      'ct state established,related accept comment "knockwatch:established"',
      'iifname "lo" accept comment "knockwatch:loopback"',
      // over its source's limit a packet leaves knockwatch's chain unlogged, never dropped
      'tcp dport { 6100, 7000, 7500, 8000 } update @loglimit4 { ip saddr limit rate over 20/second burst 60 packets } return comment "knockwatch:log-limit"',
      'tcp dport { 6100, 7000, 7500, 8000 } update @loglimit6 { ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 20/second burst 60 packets } return comment "knockwatch:log-limit"',
      'tcp dport { 6100, 7000, 7500, 8000 } log prefix "KNOCK " comment "knockwatch:knock"',
      'udp dport { 6200, 9000 } update @loglimit4 { ip saddr limit rate over 20/second burst 60 packets } return comment "knockwatch:log-limit"',
      'udp dport { 6200, 9000 } update @loglimit6 { ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 20/second burst 60 packets } return comment "knockwatch:log-limit"',
      'udp dport { 6200, 9000 } log prefix "KNOCK " comment "knockwatch:knock"',
    ]);
    expect(lines.filter((l) => l.startsWith('set '))).toEqual([
      'set loglimit4 { type ipv4_addr; size 65536; flags dynamic,timeout; timeout 3s; comment "knockwatch:ip saddr limit rate over 20/second burst 60 packets"; }',
      'set loglimit6 { type ipv6_addr; size 65536; flags dynamic,timeout; timeout 3s; comment "knockwatch:ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 20/second burst 60 packets"; }',
    ]);
  });

  it('iptables: LOG for every knock port, no DROP, no ACCEPT, no whitelist, no ban, no grant', () => {
    const rules = buildRestoreScript(plan, 4, [grant('203.0.113.7')], [{ src: '203.0.113.9', until: 9000 }]).split('\n').filter((l) => l.startsWith('-A'));
    expect(rules.slice(2).map((rule) => rule.replace(/.*--dport (\d+) .* -j /, '$1 '))).toEqual([
      '6100 LOG --log-prefix "KNOCK "',
      '6200 LOG --log-prefix "KNOCK "',
      '7000 LOG --log-prefix "KNOCK "',
      '7500 LOG --log-prefix "KNOCK "',
      '8000 LOG --log-prefix "KNOCK "',
      '9000 LOG --log-prefix "KNOCK "',
    ]);
    expect(rules.filter((rule) => !rule.includes(' -m comment --comment knockwatch:'))).toEqual([]);
  });

  it('is what `check` prints for firewall = command, with the commands', () => {
    const text = createBackend('command', CONFIG, recorder().runner).plan([], 0);
    expect(text).toMatch(/log[ -]prefix "KNOCK "/);
    expect(text).toContain('[openSSH] start_command: /sbin/iptables -I INPUT -s %IP% -p tcp --dport 22 -j ACCEPT');
  });
});

describe('the command backend', () => {
  const GRANTS = [grant('203.0.113.7'), grant('2001:db8::7')];
  // The log-only rulesets (checked line by line above) are what gets installed, whole.
  it.each([
    ['nftables', (runner: CommandRunner) => new NftablesBackend(plan, runner), () => [`nft -f -\n${buildNftRuleset(plan, GRANTS, 1000)}`]],
    ['iptables', (runner: CommandRunner) => new IptablesBackend(plan, runner),
      () => [4, 6].map((family) => `${family === 4 ? 'iptables' : 'ip6tables'}-restore --noflush -w\n${buildRestoreScript(plan, family as 4 | 6, GRANTS)}`)],
  ])('installs the LOG rules (%s) at start and never runs start_command for the grants it is given', async (_kind, logRules, installs) => {
    const { runner, calls } = recorder();
    const backend = new CommandBackend(DOORS, runner, logRules(runner));
    await backend.start(GRANTS, 1000);
    expect(calls.filter((call) => /^(?:nft -f|ip6?tables-restore) /.test(call))).toEqual(installs());
    expect(calls.filter((call) => call.includes('INPUT -s'))).toEqual([]);
  });

  // Nothing is ever sent to a log-only ruleset's channel: no process is started for it, so a
  // reload (a new backend each time) does not leave one behind.
  it('starts no channel process for the LOG rules, and lets their backend go when replaced', async () => {
    const { runner } = recorder();
    const events: string[] = [];
    const nft = new NftablesBackend(plan, runner, 'nft', { send: async () => undefined, warm: () => { events.push('nft warm'); }, stop: async () => { events.push('nft stop'); } });
    const channel = { send: async () => undefined, installed: () => undefined, warm: () => { events.push('iptables warm'); }, stop: async () => { events.push('iptables stop'); } };
    const iptables = new IptablesBackend(plan, runner, () => '/usr/sbin/iptables', { 4: channel, 6: channel });
    for (const logRules of [nft, iptables]) {
      const backend = new CommandBackend(DOORS, runner, logRules);
      await backend.start([], 1000);
      await backend.release?.();
    }
    expect(events).toEqual(['nft stop', 'iptables stop', 'iptables stop']);
  });

  it('runs the stop commands of live grants on a clean exit and leaves the LOG rules', async () => {
    const { runner, calls } = recorder();
    await new CommandBackend(DOORS, runner, new NftablesBackend(plan, runner)).stop([grant('203.0.113.7')]);
    expect(calls).toEqual(['/sbin/iptables -D INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT']);
  });

  it('removes the LOG rules and runs the stop commands when asked to take everything away', async () => {
    const { runner, calls } = recorder();
    await new CommandBackend(DOORS, runner, new NftablesBackend(plan, runner)).remove([grant('203.0.113.7')]);
    expect(calls).toEqual([
      '/sbin/iptables -D INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT',
      'nft list table inet knockwatch',
      'nft delete table inet knockwatch',
    ]);
  });

  // knockd's start_command_6 / stop_command_6: for IPv6 addresses, when set.
  it.each([
    ['203.0.113.7', DOORS, '/sbin/iptables -I INPUT -s 203.0.113.7', '/sbin/iptables -D INPUT -s 203.0.113.7'],
    ['2001:db8::7', DOORS, '/sbin/ip6tables -I INPUT -s 2001:db8::7', '/sbin/ip6tables -D INPUT -s 2001:db8::7'],
    ['2001:db8::7', [openSsh], '/sbin/iptables -I INPUT -s 2001:db8::7', '/sbin/iptables -D INPUT -s 2001:db8::7'],
  ])('for %s runs the right open and close commands', async (src, doors, opened, closed) => {
    const { runner, calls } = recorder();
    const backend = new CommandBackend(doors, runner, new NftablesBackend(plan, runner));
    await backend.open(grant(src), 1000);
    await backend.close(grant(src));
    expect(calls).toEqual([`${opened} -p tcp --dport 22 -j ACCEPT`, `${closed} -p tcp --dport 22 -j ACCEPT`]);
  });
});
