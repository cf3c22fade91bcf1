import { describe, expect, it } from 'vitest';
import { readIptablesContent } from '../../src/firewall/iptables-content.js';
import { buildRestoreScript } from '../../src/firewall/iptables.js';
import { readNftContent } from '../../src/firewall/nft-content.js';
import { buildNftRuleset, NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { config } from '../helpers/engine.js';
import { fixture, iptablesVerifyAfter, nftVerifyAfter } from '../helpers/listings.js';
import { recorder } from '../helpers/recorder.js';

// The per-source limit on the knock LOG rules. The fixtures are what real nft 1.0.6 and
// iptables 1.8.9 (nf_tables) listed for CONFIG in a namespace: right after the install, and
// after a flood from 10.210.9.2 and fd00:210:9::2 put those sources (the latter as its /64,
// fd00:210:9::) in the limit's sets.
const CONFIG = `[options]
firewall = nftables
whitelist = 192.0.2.10
log_prefix = KNOCK
[openSSH]
sequence = 7000,8000,9000:udp
open = 22/tcp
`;
const planOf = (options = ''): ReturnType<typeof buildFirewallPlan> => buildFirewallPlan(config(CONFIG.replace('[options]\n', `[options]\n${options}`)));
const nftLines = (options = ''): string[] => buildNftRuleset(planOf(options), [], 0).split('\n').map((line) => line.trim());

describe('nftables: the knock LOG rules are limited per IPv4 address and per IPv6 /64', () => {
  it('drops a packet over its source\'s limit before the LOG rule, per family, in sets bounded in size and time', () => {
    const lines = nftLines();
    expect(lines.filter((line) => line.startsWith('set loglimit'))).toEqual([
      'set loglimit4 { type ipv4_addr; size 65536; flags dynamic,timeout; timeout 3s; comment "knockwatch:ip saddr limit rate over 20/second burst 60 packets"; }',
      'set loglimit6 { type ipv6_addr; size 65536; flags dynamic,timeout; timeout 3s; comment "knockwatch:ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 20/second burst 60 packets"; }',
    ]);
    expect(lines.filter((line) => / dport (\{ 7000, 8000 \}|9000) /.test(line))).toEqual([
      'tcp dport { 7000, 8000 } update @loglimit4 { ip saddr limit rate over 20/second burst 60 packets } drop comment "knockwatch:log-limit"',
      'tcp dport { 7000, 8000 } update @loglimit6 { ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 20/second burst 60 packets } drop comment "knockwatch:log-limit"',
      'tcp dport { 7000, 8000 } log prefix "KNOCK " drop comment "knockwatch:knock"',
      'udp dport 9000 update @loglimit4 { ip saddr limit rate over 20/second burst 60 packets } drop comment "knockwatch:log-limit"',
      'udp dport 9000 update @loglimit6 { ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 20/second burst 60 packets } drop comment "knockwatch:log-limit"',
      'udp dport 9000 log prefix "KNOCK " drop comment "knockwatch:knock"',
    ]);
  });

  it.each([
    // a source is forgotten once its bucket has refilled: burst / rate, at least 1 s
    ['log_limit = 5/second\nlog_burst = 12\n', 'limit rate over 5/second burst 12 packets', 'timeout 3s'],
    ['log_limit = 100/s\nlog_burst = 10\n', 'limit rate over 100/second burst 10 packets', 'timeout 1s'],
    ['log_limit = 2/sec\nlog_burst = 32\n', 'limit rate over 2/second burst 32 packets', 'timeout 16s'],
  ])('%j', (options, limit, timeout) => {
    const lines = nftLines(options);
    expect(lines.filter((line) => line.includes('update @loglimit4')).map((line) => line.includes(limit))).toEqual([true, true]);
    expect(lines.filter((line) => line.startsWith('set loglimit')).map((line) => line.includes(timeout))).toEqual([true, true]);
  });

  it('log_limit = off: the LOG rule as it was, no limit sets', () => {
    const lines = nftLines('log_limit = off\n');
    expect(lines.filter((line) => line.includes('loglimit'))).toEqual([]);
    expect(lines).toContain('tcp dport { 7000, 8000 } log prefix "KNOCK " drop comment "knockwatch:knock"');
  });

  it('tells check the rules per family', () => {
    const backend = new NftablesBackend(planOf(), recorder().runner);
    expect(backend.logLimitRules().map(({ family, rule }) => `${family} ${rule.slice(0, rule.indexOf(' {', 12))}`)).toEqual([
      '4 tcp dport { 7000, 8000 } update @loglimit4',
      '4 udp dport 9000 update @loglimit4',
      '6 tcp dport { 7000, 8000 } update @loglimit6',
      '6 udp dport 9000 update @loglimit6',
    ]);
    expect(new NftablesBackend(planOf('log_limit = off\n'), recorder().runner).logLimitRules()).toEqual([]);
  });
});

describe('nftables: verify reads the installed limit back', () => {
  const installed = fixture('log-limit-nft-installed.json');
  const sources = fixture('log-limit-nft-sources.json');

  it('the fixtures are what the plan installs, and the flood left sources in both sets', () => {
    expect(readNftContent(installed)?.rules).toBe(buildNftRuleset(planOf(), [], 0).split('\n').filter((line) => /^ {4}\S/.test(line) && !line.includes(' type ')).length);
    expect(sources).toContain('"val": "10.210.9.2"');
    expect(sources).toContain('"val": "fd00:210:9::"');
  });

  const verifyAfter = async (now: string): Promise<boolean> => await nftVerifyAfter(planOf(), installed, now);

  it('sources the kernel added to the limit\'s sets are no drift', async () => {
    expect(await verifyAfter(sources)).toBe(true);
  });

  it.each([
    ['a limit raised', (json: string) => json.replaceAll('"rate": 20,', '"rate": 200000,')],
    ['a limit set\'s size changed', (json: string) => json.replace('"size": 65536', '"size": 1')],
    ['the limit rule deleted', (json: string) => {
      const listing = JSON.parse(json) as { nftables: { rule?: { comment?: string } }[] };
      const first = listing.nftables.findIndex((item) => item.rule?.comment === 'knockwatch:log-limit');
      listing.nftables.splice(first, 1);
      return JSON.stringify(listing);
    }],
  ])('%s is drift', async (_what, change) => {
    expect(change(sources)).not.toBe(sources);
    expect(await verifyAfter(change(sources))).toBe(false);
  });
});

describe('iptables: the LOG rules carry a hashlimit per IPv4 address and per IPv6 /64', () => {
  const HASHLIMIT = '-m hashlimit --hashlimit-upto 20/sec --hashlimit-burst 60 --hashlimit-mode srcip --hashlimit-htable-max 65536 --hashlimit-htable-expire 3000';
  const logRules = (family: 4 | 6, options = ''): string[] => buildRestoreScript(planOf(options), family, []).split('\n').filter((line) => line.includes(' -j LOG ') || line.includes('dport 7000'));

  it.each([4, 6] as const)('IPv%d: one table for every knock port; the DROP rules stay as they were', (family) => {
    // IPv4 by address, hashlimit's default mask; IPv6 by /64.
    const limit = family === 4
      ? HASHLIMIT.replace('--hashlimit-htable-max', '--hashlimit-name knockwatch-log4-20-60-32 --hashlimit-htable-max')
      : `${HASHLIMIT.replace('--hashlimit-htable-max', '--hashlimit-name knockwatch-log6-20-60-64 --hashlimit-htable-max')} --hashlimit-srcmask 64`;
    expect(logRules(family)).toEqual([
      `-A KNOCKWATCH -p tcp -m tcp --dport 7000 -m comment --comment knockwatch:openSSH ${limit} -j LOG --log-prefix "KNOCK "`,
      '-A KNOCKWATCH -p tcp -m tcp --dport 7000 -m comment --comment knockwatch:openSSH -j DROP',
      `-A KNOCKWATCH -p tcp -m tcp --dport 8000 -m comment --comment knockwatch:openSSH ${limit} -j LOG --log-prefix "KNOCK "`,
      `-A KNOCKWATCH -p udp -m udp --dport 9000 -m comment --comment knockwatch:openSSH ${limit} -j LOG --log-prefix "KNOCK "`,
    ]);
  });

  it('log_limit = off: the LOG rules as they were', () => {
    expect(logRules(4, 'log_limit = off\n')[0]).toBe('-A KNOCKWATCH -p tcp -m tcp --dport 7000 -m comment --comment knockwatch:openSSH -j LOG --log-prefix "KNOCK "');
  });

  it('a custom limit and its expiry (burst / rate, in ms)', () => {
    expect(logRules(4, 'log_limit = 4/second\nlog_burst = 30\n')[0]).toContain('--hashlimit-upto 4/sec --hashlimit-burst 30 ');
    expect(logRules(4, 'log_limit = 4/second\nlog_burst = 30\n')[0]).toContain('--hashlimit-htable-expire 8000 ');
  });

  // The kernel finds a hashlimit table by name and keeps the rate, burst, mask and expiry the
  // first rule gave it while any rule uses it: a reload that rewrote the chain with a new limit
  // under the same name went on limiting with the old one (real iptables 1.8.9, in a namespace).
  // The mask is in the name too: the IPv6 table keyed per address before is not reused per /64.
  it.each([[4, 32], [6, 64]] as const)('IPv%d: a table per limit and mask, so a reload that changes the limit gets the new one', (family, prefix) => {
    const names = (options: string): string[] => [...new Set(logRules(family, options).flatMap((line) => /--hashlimit-name (\S+)/.exec(line)?.[1] ?? []))];
    expect(names('')).toEqual([`knockwatch-log${family}-20-60-${prefix}`]);
    expect(names('log_limit = 4/second\n')).toEqual([`knockwatch-log${family}-4-60-${prefix}`]);
    expect(names('log_burst = 30\n')).toEqual([`knockwatch-log${family}-20-30-${prefix}`]);
    expect(names('log_limit = 10000/second\nlog_burst = 10000\n')).toEqual([`knockwatch-log${family}-10000-10000-${prefix}`]);
  });

  const listed = { 4: fixture('log-limit-iptables-S.txt'), 6: fixture('log-limit-ip6tables-S.txt') };

  it.each([4, 6] as const)('IPv%d: what iptables -S prints back is structure, no grant or ban rule', (family) => {
    const content = readIptablesContent(listed[family]);
    expect(content.entries).toEqual(new Set());
    expect(content.structure.filter((line) => line.includes(`--hashlimit-name knockwatch-log${family}-20-60-${family === 4 ? 32 : 64} `))).toHaveLength(3);
  });

  const verifyAfter = async (now: string): Promise<boolean> => await iptablesVerifyAfter(planOf(), listed, now);

  it('verify accepts the limited rules as read back, and notices a limit taken off a LOG rule', async () => {
    expect(await verifyAfter(listed[4])).toBe(true);
    const unlimited = listed[4].replace(/ -m hashlimit .*?(?= -j LOG)/, '');
    expect(unlimited).not.toBe(listed[4]);
    expect(await verifyAfter(unlimited)).toBe(false);
  });
});
