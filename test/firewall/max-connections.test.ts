import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/access/grant-table.js';
import { readIptablesContent } from '../../src/firewall/iptables-content.js';
import { buildRestoreScript } from '../../src/firewall/iptables.js';
import { readNftContent } from '../../src/firewall/nft-content.js';
import { buildNftRuleset } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { config } from '../helpers/engine.js';
import { fixture, iptablesVerifyAfter, nftVerifyAfter } from '../helpers/listings.js';

// max_connections. The fixtures are what real nft 1.0.6 and iptables 1.8.9 (nf_tables) listed
// for CONFIG with GRANTS in a namespace: right after the install, and (nft) while 10.213.9.2
// held two connections to port 22, which put it in the count's set.
const CONFIG = `[options]
whitelist = 192.0.2.10
log_prefix = KNOCK
[openSSH]
sequence = 7000,8000,9000:udp
open = 22/tcp,53/udp
max_connections = 2
[web]
sequence = 6000
open = 443/tcp
`;
const PORTS = [{ port: 22, proto: 'tcp' as const }, { port: 53, proto: 'udp' as const }];
const GRANTS: Grant[] = [
  { src: '10.213.9.2', door: 'openSSH', ports: PORTS, opened: 0, expires: 3_600_000 },
  { src: 'fd00:213:9::2', door: 'openSSH', ports: PORTS, opened: 0, expires: 3_600_000 },
];
const planOf = (ini = CONFIG): ReturnType<typeof buildFirewallPlan> => buildFirewallPlan(config(ini));
const WITHOUT = CONFIG.replace('max_connections = 2\n', '');

describe('nftables: max_connections', () => {
  it('drops a granted address\'s connection past the limit before the accept, per family and port, counted in the kernel', () => {
    const lines = buildNftRuleset(planOf(), [], 0).split('\n').map((line) => line.trim());
    expect(lines.filter((line) => line.includes('connlimit') || line.includes('@grant'))).toEqual([
      'set connlimit4_0 { type ipv4_addr . inet_service; size 65535; flags dynamic; comment "knockwatch:ct count over 2"; }',
      'set connlimit6_0 { type ipv6_addr . inet_service; size 65535; flags dynamic; comment "knockwatch:ct count over 2"; }',
      'ip saddr @grant4_0 tcp dport 22 add @connlimit4_0 { ip saddr . tcp dport ct count over 2 } drop comment "knockwatch:openSSH"',
      'ip saddr @grant4_0 tcp dport 22 accept comment "knockwatch:openSSH"',
      'ip6 saddr @grant6_0 tcp dport 22 add @connlimit6_0 { ip6 saddr . tcp dport ct count over 2 } drop comment "knockwatch:openSSH"',
      'ip6 saddr @grant6_0 tcp dport 22 accept comment "knockwatch:openSSH"',
      'ip saddr @grant4_0 udp dport 53 add @connlimit4_0 { ip saddr . udp dport ct count over 2 } drop comment "knockwatch:openSSH"',
      'ip saddr @grant4_0 udp dport 53 accept comment "knockwatch:openSSH"',
      'ip6 saddr @grant6_0 udp dport 53 add @connlimit6_0 { ip6 saddr . udp dport ct count over 2 } drop comment "knockwatch:openSSH"',
      'ip6 saddr @grant6_0 udp dport 53 accept comment "knockwatch:openSSH"',
      'ip saddr @grant4_1 tcp dport 443 accept comment "knockwatch:web"',
      'ip6 saddr @grant6_1 tcp dport 443 accept comment "knockwatch:web"',
    ]);
    // the established sessions rule comes first: a closed grant or the limit only stops new connections
    expect(lines.findIndex((line) => line.startsWith('ct state established,related accept'))).toBeLessThan(lines.findIndex((line) => line.includes('add @connlimit')));
  });

  it('without it, no count and no set', () => {
    expect(buildNftRuleset(planOf(WITHOUT), [], 0)).not.toContain('connlimit');
  });

  const installed = fixture('max-connections-nft-installed.json');
  const counting = fixture('max-connections-nft-counting.json');

  it('the fixtures are what the plan installs, and the count held the address', () => {
    expect(readNftContent(installed)?.rules).toBe(buildNftRuleset(planOf(), GRANTS, 0).split('\n').filter((line) => /^ {4}\S/.test(line) && !line.includes(' type ')).length);
    expect(JSON.stringify(JSON.parse(counting))).toContain('"elem":[{"elem":{"val":{"concat":["10.213.9.2",22]},"ct count":{"val":2,"inv":true}}}]');
    expect(installed).not.toContain('"val": {"concat"');
  });

  const verifyAfter = async (now: string): Promise<boolean> => await nftVerifyAfter(planOf(), installed, now, GRANTS);

  it('addresses the kernel counts in the set are no drift', async () => {
    expect(await verifyAfter(installed)).toBe(true);
    expect(await verifyAfter(counting)).toBe(true);
  });

  it.each([
    ['the limit raised', (json: string) => json.replaceAll('"val": 2,', '"val": 20,')],
    ['the count rule deleted', (json: string) => {
      const listing = JSON.parse(json) as { nftables: { rule?: { expr: unknown[] } }[] };
      listing.nftables.splice(listing.nftables.findIndex((item) => JSON.stringify(item.rule?.expr ?? []).includes('ct count')), 1);
      return JSON.stringify(listing);
    }],
  ])('%s is drift', async (_what, change) => {
    expect(change(counting)).not.toBe(counting);
    expect(await verifyAfter(change(counting))).toBe(false);
  });
});

describe('iptables: max_connections', () => {
  it.each([4, 6] as const)('IPv%d: the grant\'s ACCEPT holds a connlimit per source address', (family) => {
    const mask = family === 4 ? 32 : 128;
    const src = family === 4 ? '10.213.9.2/32' : 'fd00:213:9::2/128';
    expect(buildRestoreScript(planOf(), family, GRANTS).split('\n').filter((line) => line.includes(src))).toEqual([
      `-A KNOCKWATCH -s ${src} -p tcp -m tcp --dport 22 -m comment --comment knockwatch:openSSH -m connlimit --connlimit-upto 2 --connlimit-mask ${mask} --connlimit-saddr -j ACCEPT`,
      `-A KNOCKWATCH -s ${src} -p udp -m udp --dport 53 -m comment --comment knockwatch:openSSH -m connlimit --connlimit-upto 2 --connlimit-mask ${mask} --connlimit-saddr -j ACCEPT`,
    ]);
    expect(buildRestoreScript(planOf(WITHOUT), family, GRANTS)).not.toContain('connlimit');
  });

  const listed = { 4: fixture('max-connections-iptables-S.txt'), 6: fixture('max-connections-ip6tables-S.txt') };

  it.each([4, 6] as const)('IPv%d: iptables -S prints the limited grants back as grants, with their limit', (family) => {
    const src = family === 4 ? '10.213.9.2' : 'fd00:213:9::2';
    expect(readIptablesContent(listed[family]).entries).toEqual(new Set([`grant openSSH ${src} tcp/22 upto 2`, `grant openSSH ${src} udp/53 upto 2`]));
  });

  const verifyAfter = async (now: string): Promise<boolean> => await iptablesVerifyAfter(planOf(), listed, now, GRANTS);

  it('verify accepts the grants as read back, and notices a limit taken off or changed', async () => {
    expect(await verifyAfter(listed[4])).toBe(true);
    const unlimited = listed[4].replace(/ -m connlimit .*?(?= -j ACCEPT)/, '');
    expect(unlimited).not.toBe(listed[4]);
    expect(await verifyAfter(unlimited)).toBe(false);
    expect(await verifyAfter(listed[4].replace('--connlimit-upto 2 ', '--connlimit-upto 9 '))).toBe(false);
  });
});
