import { describe, expect, it } from 'vitest';
import { buildRestoreScript, IptablesBackend } from '../../src/firewall/iptables.js';
import { buildNftRuleset } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { networkContains, parseNetwork } from '../../src/net/address.js';
import { FIREWALL_CONFIG } from '../helpers/firewall-config.js';
import { recorder } from '../helpers/recorder.js';

// A whitelisted address that is also banned must still reach the protected ports.
const plan = buildFirewallPlan(FIREWALL_CONFIG);
const BANNED = [{ src: '192.0.2.10', until: 61_000 }, { src: '2001:db8:1::5', until: 61_000 }];

// The target of the first iptables rule a new TCP connection from `src` to `port` on eth0 matches.
function firstTarget(script: string, src: string, port: number): string | undefined {
  for (const line of script.split('\n').filter((l) => l.startsWith('-A '))) {
    const words = line.split(' ');
    const after = (flag: string): string | undefined => (words.includes(flag) ? words[words.indexOf(flag) + 1] : undefined);
    const source = after('-s');
    const network = source === undefined ? undefined : parseNetwork(source);
    if (source !== undefined && (network === undefined || !networkContains(network, src))) continue;
    if (after('--dport') !== undefined && after('--dport') !== String(port)) continue;
    if (after('-i') === 'lo' || (after('--ctstate') !== undefined && !after('--ctstate')?.split(',').includes('NEW'))) continue;
    return after('-j');
  }
  return undefined;
}

describe('the whitelist wins over a ban', () => {
  it('nftables accepts the whitelist before any ban drop', () => {
    const lines = buildNftRuleset(plan, [], 1000, BANNED).split('\n');
    const lastWhitelist = lines.findLastIndex((l) => l.includes('comment "knockwatch:whitelist"'));
    const firstBan = lines.findIndex((l) => l.includes('comment "knockwatch:ban"'));
    expect(lastWhitelist).toBeGreaterThan(0);
    expect(firstBan).toBeGreaterThan(lastWhitelist);
  });

  it.each([
    [4, '192.0.2.10', 22, 'ACCEPT'],
    [4, '192.0.2.10', 443, 'ACCEPT'],
    [6, '2001:db8:1::5', 8443, 'ACCEPT'],
    // on other ports the ban still drops
    [4, '192.0.2.10', 3306, 'DROP'],
  ] as const)('iptables (IPv%d): %s to port %d meets %s first', (family, src, port, target) => {
    expect(firstTarget(buildRestoreScript(plan, family, [], BANNED), src, port)).toBe(target);
  });

  it.each([
    // established, loopback, then one whitelist rule per network and protected port
    ['192.0.2.10', 'iptables', 6],
    ['2001:db8:1::5', 'ip6tables', 6],
  ])('iptables inserts a live ban of %s after the whitelist', async (src, cli, position) => {
    const { runner, calls } = recorder((line) => (line.includes(' -C ') ? { failed: true } : undefined));
    await new IptablesBackend(plan, runner).ban({ src, until: 61_000 });
    expect(calls[1]).toMatch(new RegExp(`^${cli} -w -I KNOCKWATCH ${position} -s `));
    const script = buildRestoreScript(plan, src.includes(':') ? 6 : 4, [], []).split('\n').filter((l) => l.startsWith('-A'));
    expect(script.findLastIndex((l) => l.includes('knockwatch:whitelist')) + 2).toBe(position);
  });
});
