import { describe, expect, it } from 'vitest';
import { buildRestoreScript } from '../../src/firewall/iptables.js';
import { readNftContent } from '../../src/firewall/nft-content.js';
import { buildNftRuleset } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { config } from '../helpers/engine.js';
import { fixture, iptablesVerifyAfter, nftVerifyAfter } from '../helpers/listings.js';

// icmp:N steps. The fixtures are what real nft 1.0.6 and iptables 1.8.9 (nf_tables) listed
// for CONFIG in a namespace right after the install. icmp:40 is too short for ICMPv6 (48 bytes
// at least): IPv4 only.
const CONFIG = `[options]
log_prefix = KNOCK
log_limit = 5/s
[openSSH]
sequence = 7000,icmp:100,icmp:40,9000:udp
`;
const planOf = (ini = CONFIG): ReturnType<typeof buildFirewallPlan> => buildFirewallPlan(config(ini));
const LIMIT = 'limit rate over 5/second burst 60 packets } drop comment "knockwatch:log-limit"';

describe('nftables: icmp:N steps', () => {
  it('logs and drops echo requests of the steps\' lengths, nft\'s ip6 length 40 bytes short of LEN=', () => {
    const lines = buildNftRuleset(planOf(), [], 0).split('\n').map((line) => line.trim());
    expect(lines.filter((line) => line.startsWith('icmp'))).toEqual([
      `icmp type echo-request ip length { 40, 100 } update @loglimit4 { ip saddr ${LIMIT}`,
      'icmp type echo-request ip length { 40, 100 } log prefix "KNOCK " drop comment "knockwatch:knock"',
      `icmpv6 type echo-request ip6 length 60 update @loglimit6 { ip6 saddr and ffff:ffff:ffff:ffff:: ${LIMIT}`,
      'icmpv6 type echo-request ip6 length 60 log prefix "KNOCK " drop comment "knockwatch:knock"',
    ]);
  });

  it('without ICMP steps, no ICMP rule', () => {
    expect(buildNftRuleset(planOf(CONFIG.replace('icmp:100,icmp:40,', '')), [], 0)).not.toContain('icmp');
  });

  const installed = fixture('icmp-steps-nft-installed.json');

  it('the fixture is what the plan installs, and verify accepts it as read back', async () => {
    expect(readNftContent(installed)?.rules).toBe(buildNftRuleset(planOf(), [], 0).split('\n').filter((line) => /^ {4}\S/.test(line) && !line.includes(' type filter')).length);
    expect(await nftVerifyAfter(planOf(), installed, installed)).toBe(true);
  });
});

describe('iptables: icmp:N steps', () => {
  const listed = { 4: fixture('icmp-steps-iptables-S.txt'), 6: fixture('icmp-steps-ip6tables-S.txt') };

  it.each([
    [4, ['-A KNOCKWATCH -p icmp -m icmp --icmp-type 8 -m length --length 40 -m comment --comment knockwatch:openSSH -j DROP',
      '-A KNOCKWATCH -p icmp -m icmp --icmp-type 8 -m length --length 100 -m comment --comment knockwatch:openSSH -j DROP']],
    [6, ['-A KNOCKWATCH -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m length --length 100 -m comment --comment knockwatch:openSSH -j DROP']],
  ] as const)('IPv%d: LOG and DROP per echo length (-m length counts the whole packet, as LEN= does)', (family, drops) => {
    const lines = buildRestoreScript(planOf(), family, []).split('\n').filter((line) => line.includes('icmp'));
    expect(lines.filter((line) => line.endsWith('-j DROP'))).toEqual(drops);
    expect(lines.filter((line) => line.endsWith('-j LOG --log-prefix "KNOCK "'))).toHaveLength(drops.length);
  });

  it.each([4, 6] as const)('IPv%d: iptables -S lists what the script installs, rule for rule', (family) => {
    const script = buildRestoreScript(planOf(), family, []).split('\n').filter((line) => line.startsWith('-A '));
    expect(listed[family].split('\n').filter((line) => line.startsWith('-A ')).map((line) => line.replaceAll('"knockwatch:', 'knockwatch:').replace(/(knockwatch:[\w,]+)"/g, '$1'))).toEqual(script);
  });

  it('verify accepts the ICMP rules as read back, and notices one deleted', async () => {
    const verifyAfter = async (now: string): Promise<boolean> => await iptablesVerifyAfter(planOf(), listed, now);
    expect(await verifyAfter(listed[4])).toBe(true);
    const without = listed[4].split('\n').filter((line) => !line.includes('--length 40 -m comment --comment "knockwatch:openSSH" -j DROP')).join('\n');
    expect(without).not.toBe(listed[4]);
    expect(await verifyAfter(without)).toBe(false);
  });
});
