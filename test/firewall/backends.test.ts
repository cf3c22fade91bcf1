import { describe, expect, it } from 'vitest';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import { IptablesBackend, buildRestoreScript } from '../../src/firewall/iptables.js';
import { NftablesBackend, buildNftRuleset } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { splitCommand, substituteAddress } from '../../src/text/split-command.js';
import { config } from '../helpers/engine.js';
import { FIREWALL_CONFIG, grantOf } from '../helpers/firewall-config.js';
import { recorder } from '../helpers/recorder.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';

const plan = buildFirewallPlan(FIREWALL_CONFIG);
const grant = grantOf;

// The recorded runner fails the commands `test` picks.
function failWhen(test: (line: string) => boolean): (line: string) => { failed: true } | undefined {
  return (line) => (test(line) ? { failed: true } : undefined);
}

describe('nftables', () => {
  it('replaces its table in one transaction with gate, knock LOG rules, whitelist and live grants', () => {
    const text = buildNftRuleset(plan, [grant('203.0.113.7'), grant('2001:db8::7', 'openSSH', Infinity), grant('198.51.100.1', 'openSSH', 500)], 1000);
    const lines = text.split('\n').map((l) => l.trim());
    expect(lines.slice(1, 4)).toEqual(['table inet knockwatch', 'delete table inet knockwatch', 'table inet knockwatch {']);
    expect(text).toContain('set whitelist4 { type ipv4_addr; flags interval; elements = { 192.0.2.10/32 }; }');
    expect(text).toContain('set whitelist6 { type ipv6_addr; flags interval; elements = { 2001:db8:1::/48 }; }');
    expect(text).toContain('elements = { 203.0.113.7 timeout 30000ms }');
    expect(text).toContain('elements = { 2001:db8::7 }');
    expect(text).not.toContain('198.51.100.1');
    expect(lines).toContain('tcp dport { 6000, 6001, 7000, 7500, 8000 } log prefix "KNOCK " drop comment "knockwatch:knock"');
    expect(lines).toContain('udp dport 9000 log prefix "KNOCK " drop comment "knockwatch:knock"');
    expect(lines).toContain('ip saddr @grant4_2 tcp dport { 443, 8443 } accept comment "knockwatch:web"');
    // the gate comes after every accept
    const gate = lines.indexOf('tcp dport { 22, 443, 8443 } drop comment "knockwatch:gate"');
    expect(gate).toBeGreaterThan(lines.findLastIndex((l) => l.includes(' accept comment')));
  });

  it('adds, extends and deletes set elements, never failing on an element the kernel expired', async () => {
    const { runner, calls } = recorder();
    const backend = new NftablesBackend(plan, runner);
    await backend.open(grant('203.0.113.7'), 1000);
    await backend.extend(grant('203.0.113.7', 'openSSH', 61_000), 2000);
    await backend.close(grant('2001:db8::7'));
    expect(calls).toEqual([
      'nft -f -\nadd element inet knockwatch grant4_0 { 203.0.113.7 timeout 30000ms }\n',
      'nft -f -\nadd element inet knockwatch grant4_0 { 203.0.113.7 }\ndelete element inet knockwatch grant4_0 { 203.0.113.7 }\nadd element inet knockwatch grant4_0 { 203.0.113.7 timeout 59000ms }\n',
      'nft -f -\nadd element inet knockwatch grant6_0 { 2001:db8::7 }\ndelete element inet knockwatch grant6_0 { 2001:db8::7 }\n',
    ]);
  });

  it('starts its channel once the ruleset is in, so the first grant does not wait for a new nft', async () => {
    const { runner } = recorder();
    const events: string[] = [];
    const channel = { send: async () => { events.push('send'); }, warm: () => { events.push('warm'); }, stop: async () => undefined };
    const backend = new NftablesBackend(plan, runner, 'nft', channel);
    await backend.start([], 0);
    await backend.open(grant('203.0.113.7'), 1000);
    expect(events).toEqual(['warm', 'send']);
  });

  it('reports a failing nft with its reason', async () => {
    const { runner } = recorder(failWhen(() => true));
    await expect(new NftablesBackend(plan, runner).start([], 0)).rejects.toThrow('nft -f -: exit status 1');
  });
});

describe('iptables', () => {
  it('check() reads like verify() but leaves the channels\' record alone; verify() resyncs them', async () => {
    // -S answers with the chain as the script builds it, so start() takes it as the reference.
    const listing = (family: 4 | 6): string => ['-N KNOCKWATCH', ...buildRestoreScript(plan, family, [], []).split('\n').filter((line) => line.startsWith('-A KNOCKWATCH '))].join('\n');
    const { runner } = recorder((line) => (line.endsWith(' -S KNOCKWATCH') ? { stdout: listing(line.startsWith('ip6tables') ? 6 : 4) } : undefined));
    const resynced: string[] = [];
    const channel = (family: number) => ({ send: async () => undefined, installed: () => { resynced.push(`${family}`); }, stop: async () => undefined });
    const backend = new IptablesBackend(plan, runner, () => '/usr/sbin/iptables', { 4: channel(4), 6: channel(6) });
    await backend.start([], 0);
    resynced.length = 0;
    expect(await backend.check([], 0, [])).toBe(true);
    expect(resynced).toEqual([]);
    expect(await backend.verify([], 0, [])).toBe(true);
    expect(resynced).toEqual(['4', '6']);
  });

  it('starts each family\'s channel once the chain is in', async () => {
    const { runner } = recorder();
    const warmed: number[] = [];
    const channel = (family: number) => ({ send: async () => undefined, installed: () => undefined, warm: () => { warmed.push(family); }, stop: async () => undefined });
    await new IptablesBackend(plan, runner, () => '/usr/sbin/iptables', { 4: channel(4), 6: channel(6) }).start([], 0);
    expect(warmed).toEqual([4, 6]);
  });

  it('stop tries to close every grant, and says which could not be closed', async () => {
    // -C says each rule is there; deleting 203.0.113.7's fails.
    const { runner, calls } = recorder(failWhen((line) => line.includes(' -D ') && line.includes('203.0.113.7')));
    const backend = new IptablesBackend(plan, runner);
    await expect(backend.stop([grant('203.0.113.7'), grant('198.51.100.2')])).rejects.toThrow(/^1 grant\(s\) could not be closed: 203\.0\.113\.7 \(openSSH\): /);
    expect(calls.filter((line) => line.includes(' -D ')).map((line) => line.includes('198.51.100.2'))).toEqual([false, true]);
  });

  it('a stop whose closes fail still ends its channels (no process left behind), both backends', async () => {
    const refused = async (): Promise<void> => {
      throw new Error('refused');
    };
    const ended: string[] = [];
    const channel = (name: string) => ({ send: refused, installed: () => undefined, stop: async () => { ended.push(name); } });
    const { runner } = recorder();
    const iptables = new IptablesBackend(plan, runner, undefined, { 4: channel('iptables 4'), 6: channel('iptables 6') });
    await expect(iptables.stop([grant('203.0.113.7')])).rejects.toThrow(/^1 grant\(s\) could not be closed: 203\.0\.113\.7 \(openSSH\): refused$/);
    const nftables = new NftablesBackend(plan, runner, 'nft', { send: refused, stop: async () => { ended.push('nft'); } });
    await expect(nftables.stop([grant('2001:db8::7', 'openSSH', Infinity)])).rejects.toThrow(/^1 grant\(s\) could not be closed: 2001:db8::7 \(openSSH\): refused$/);
    expect(ended).toEqual(['iptables 4', 'iptables 6', 'nft']);
  });

  it('replaces its chain with iptables-restore, every rule commented', () => {
    const text = buildRestoreScript(plan, 4, [grant('203.0.113.7')]);
    const rules = text.split('\n').filter((l) => l.startsWith('-A'));
    expect(text.split('\n').slice(0, 2)).toEqual(['*filter', ':KNOCKWATCH - [0:0]']);
    expect(rules.filter((rule) => !rule.includes(' -m comment --comment knockwatch:'))).toEqual([]);
    expect(rules).toContain('-A KNOCKWATCH -s 203.0.113.7/32 -p tcp -m tcp --dport 22 -m comment --comment knockwatch:openSSH -j ACCEPT');
    expect(rules).toContain('-A KNOCKWATCH -p tcp -m tcp --dport 7000 -m comment --comment knockwatch:openSSH,closeSSH -m hashlimit --hashlimit-upto 20/sec --hashlimit-burst 60 --hashlimit-mode srcip --hashlimit-name knockwatch-log4-20-60-32 --hashlimit-htable-max 65536 --hashlimit-htable-expire 3000 -j LOG --log-prefix "KNOCK "');
    expect(rules).toContain('-A KNOCKWATCH -s 192.0.2.10/32 -p tcp -m tcp --dport 22 -m comment --comment knockwatch:whitelist -j ACCEPT');
    expect(rules.at(-1)).toBe('-A KNOCKWATCH -p tcp -m tcp --dport 8443 -m comment --comment knockwatch:gate -j DROP');
    expect(buildRestoreScript(plan, 6, [grant('203.0.113.7')])).not.toContain('203.0.113.7');
  });

  it('checks with -C before inserting and before deleting, with -w', async () => {
    const { runner, calls } = recorder(failWhen((line) => line.includes(' -C ') && line.includes('203.0.113.8')));
    const backend = new IptablesBackend(plan, runner);
    await backend.open(grant('203.0.113.7'));
    await backend.open(grant('203.0.113.8'));
    await backend.close(grant('203.0.113.8'));
    const rule = '-p tcp -m tcp --dport 22 -m comment --comment knockwatch:openSSH -j ACCEPT';
    expect(calls).toEqual([
      `iptables -w -C KNOCKWATCH -s 203.0.113.7/32 ${rule}`,
      `iptables -w -C KNOCKWATCH -s 203.0.113.8/32 ${rule}`,
      `iptables -w -I KNOCKWATCH 6 -s 203.0.113.8/32 ${rule}`,
      `iptables -w -C KNOCKWATCH -s 203.0.113.8/32 ${rule}`,
    ]);
  });

  it('uses ip6tables for IPv6 grants and inserts the INPUT jump only once', async () => {
    const { runner, calls } = recorder(failWhen((line) => line.startsWith('ip6tables -w -C INPUT')));
    await new IptablesBackend(plan, runner).start([], 0);
    expect(calls.filter((line) => line.includes('-I INPUT'))).toEqual(['ip6tables -w -I INPUT 1 -m comment --comment knockwatch -j KNOCKWATCH']);
  });
});

describe('command', () => {
  it.each([
    ['/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT', ['/sbin/iptables', '-A', 'INPUT', '-s', '%IP%', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']],
    ['logger -t knock "opened for %IP%"', ['logger', '-t', 'knock', 'opened for %IP%']],
    ["echo 'a b' c\\ d", ['echo', 'a b', 'c d']],
  ])('splits %s without a shell', (text, argv) => {
    expect(splitCommand(text)).toEqual({ ok: true, argv });
  });

  it.each(['iptables -A INPUT -s %IP% && echo ok', 'echo $(id)', 'a | b', 'a; b', 'echo `id`', 'echo "open'])('refuses shell syntax in %s', (text) => {
    expect(splitCommand(text).ok).toBe(false);
  });

  it('puts the validated address into argv, as one word', () => {
    expect(substituteAddress(['-s', '%IP%/32'], '2001:db8::7')).toEqual(['-s', '2001:db8::7/32']);
  });

  it('runs start_command and stop_command per grant', async () => {
    const doors = config('[d]\nsequence = 1\nstart_command = /sbin/iptables -I INPUT -s %IP% -j ACCEPT\nstop_command = /sbin/iptables -D INPUT -s %IP% -j ACCEPT\n').doors;
    const { runner, calls } = recorder();
    const backend = new CommandBackend(doors, runner, new DryRunBackend());
    await backend.open({ ...grant('203.0.113.7'), door: 'd' });
    await backend.close({ ...grant('203.0.113.7'), door: 'd' });
    expect(calls).toEqual(['/sbin/iptables -I INPUT -s 203.0.113.7 -j ACCEPT', '/sbin/iptables -D INPUT -s 203.0.113.7 -j ACCEPT']);
  });

  it('refuses to run for an address that is not a validated one', async () => {
    const doors = config('[d]\nsequence = 1\nstart_command = /bin/true %IP%\n').doors;
    const { runner, calls } = recorder();
    await expect(new CommandBackend(doors, runner, new DryRunBackend()).open({ ...grant('203.0.113.7'), src: '1.2.3.4 -j DROP', door: 'd' })).rejects.toThrow('unvalidated');
    expect(calls).toEqual([]);
  });

  it('refuses a config with shell syntax in a command', () => {
    expect(() => config('[d]\nsequence = 1\nstop_command = iptables -D INPUT -s %IP% -j ACCEPT && echo done\n')).toThrow('[d] stop_command: expected a command without shell syntax');
    expect(() => config('[d]\nsequence = 1\ncommand = iptables -A INPUT -s %IP% -j ACCEPT; echo done\n')).toThrow('line 3 command: expected a command without ; or #');
  });
});

describe('bans', () => {
  it('nftables drops new connections from banned addresses, with the ban timeout', async () => {
    const text = buildNftRuleset(plan, [], 1000, [{ src: '203.0.113.9', until: 61_000 }, { src: '2001:db8::9', until: 500 }]);
    expect(text).toContain('set banned4 { type ipv4_addr; flags timeout; elements = { 203.0.113.9 timeout 60000ms }; }');
    expect(text).toContain('set banned6 { type ipv6_addr; flags timeout; }');
    const lines = text.split('\n').map((l) => l.trim());
    // after established connections (a ban does not cut a session) and the whitelist (it wins), before everything else
    expect(lines.indexOf('ip saddr @banned4 drop comment "knockwatch:ban"')).toBe(lines.findLastIndex((l) => l.endsWith('comment "knockwatch:whitelist"')) + 1);
    const { runner, calls } = recorder();
    await new NftablesBackend(plan, runner).ban({ src: '203.0.113.9', until: 61_000 }, 1000);
    expect(calls).toEqual(['nft -f -\nadd element inet knockwatch banned4 { 203.0.113.9 }\ndelete element inet knockwatch banned4 { 203.0.113.9 }\nadd element inet knockwatch banned4 { 203.0.113.9 timeout 60000ms }\n']);
  });

  it('iptables drops new connections from banned addresses', async () => {
    // after established, loopback and three whitelist rules (one address, three protected ports)
    expect(buildRestoreScript(plan, 4, [], [{ src: '203.0.113.9', until: 1 }]).split('\n')[7])
      .toBe('-A KNOCKWATCH -s 203.0.113.9/32 -m conntrack --ctstate NEW,INVALID -m comment --comment knockwatch:ban -j DROP');
    const { runner, calls } = recorder(failWhen((line) => line.includes(' -C ')));
    const backend = new IptablesBackend(plan, runner);
    await backend.ban({ src: '2001:db8::9', until: 1 });
    await backend.unban('2001:db8::9');
    expect(calls).toEqual([
      'ip6tables -w -C KNOCKWATCH -s 2001:db8::9/128 -m conntrack --ctstate NEW,INVALID -m comment --comment knockwatch:ban -j DROP',
      'ip6tables -w -I KNOCKWATCH 6 -s 2001:db8::9/128 -m conntrack --ctstate NEW,INVALID -m comment --comment knockwatch:ban -j DROP',
      'ip6tables -w -C KNOCKWATCH -s 2001:db8::9/128 -m conntrack --ctstate NEW,INVALID -m comment --comment knockwatch:ban -j DROP',
    ]);
  });
});
