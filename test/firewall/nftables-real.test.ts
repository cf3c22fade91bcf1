import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import { NftProcessChannel } from '../../src/firewall/nft-channel.js';
import { NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan, type FirewallPlan } from '../../src/firewall/plan.js';
import { parseNetwork, type Network } from '../../src/net/address.js';
import { FIREWALL_CONFIG, grantOf } from '../helpers/firewall-config.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

// Real nft in a private network namespace of this suite's own.
const missing = missingPrerequisites(['nft', 'ip'], true);
explainSkip('nftables backend against real nft', missing);

const DAY = 86_400_000;
const NOW = 1_000_000;
const plan = buildFirewallPlan(FIREWALL_CONFIG);

interface Element {
  val: string;
  timeout?: number;
}

describe.skipIf(missing.length > 0)('nftables backend against real nft', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = createNamespace(`kwfw-nft-${process.pid}`);
  });
  afterAll(() => ns?.remove());

  // Element changes through the real long-running nft, in the namespace.
  const channels: NftProcessChannel[] = [];
  afterEach(async () => {
    await Promise.all(channels.splice(0).map((channel) => channel.stop()));
  });
  const backendOf = (firewallPlan: FirewallPlan): NftablesBackend => {
    const channel = new NftProcessChannel({ command: ['ip', 'netns', 'exec', ns.name, 'nft', '-i'] });
    channels.push(channel);
    return new NftablesBackend(firewallPlan, ns.runner, 'nft', channel);
  };

  const listJson = (): { nftables: Record<string, { name?: string; comment?: string; handle?: number; elem?: unknown[] }>[] } =>
    JSON.parse(ns.exec('nft', ['-j', 'list', 'table', 'inet', 'knockwatch'])) as never;
  const elements = (set: string): Element[] => {
    const found = listJson().nftables.find((item) => item.set?.name === set)?.set?.elem ?? [];
    return found.map((elem) => (typeof elem === 'string' ? { val: elem } : (elem as { elem: Element }).elem));
  };
  const timeoutOf = (set: string, src: string): number | undefined => elements(set).find((elem) => elem.val === src)?.timeout;

  // A repeat offender's 9th ban at default settings lasts days; grants can be long too.
  it.each([2, 9, 30, 365])('installs grants and bans of %d days through start, open, extend and ban', async (days) => {
    const life = days * DAY;
    const backend = backendOf(plan);
    await backend.start([grantOf('203.0.113.7', 'openSSH', NOW + life)], NOW, [{ src: '203.0.113.9', until: NOW + life }]);
    await backend.open(grantOf('203.0.113.8', 'web', NOW + life), NOW);
    await backend.extend(grantOf('203.0.113.7', 'openSSH', NOW + life + DAY), NOW);
    await backend.ban({ src: '2001:db8::9', until: NOW + life }, NOW);
    const seconds = life / 1000;
    expect(timeoutOf('grant4_0', '203.0.113.7')).toBe(seconds + 86_400);
    expect(timeoutOf('grant4_2', '203.0.113.8')).toBe(seconds);
    expect(timeoutOf('banned4', '203.0.113.9')).toBe(seconds);
    expect(timeoutOf('banned6', '2001:db8::9')).toBe(seconds);
    expect(await backend.verify([grantOf('203.0.113.7', 'openSSH', NOW + life + DAY), grantOf('203.0.113.8', 'web', NOW + life)], NOW,
      [{ src: '203.0.113.9', until: NOW + life }, { src: '2001:db8::9', until: NOW + life }])).toBe(true);
  });

  it('installs a lifetime beyond ten years as ten years', async () => {
    const backend = backendOf(plan);
    await backend.start([grantOf('203.0.113.7', 'openSSH', NOW + 50 * 365 * DAY)], NOW);
    expect(timeoutOf('grant4_0', '203.0.113.7')).toBe(3650 * 86_400);
  });

  const GRANTS = [grantOf('203.0.113.7'), grantOf('2001:db8::7', 'web', Infinity)];
  const BANS = [{ src: '203.0.113.9', until: NOW + 60_000 }];
  const gateHandle = (): string => String(listJson().nftables.find((item) => item.rule?.comment === 'knockwatch:gate')?.rule?.handle);

  // Drift someone else makes: each must make verify false, and start() must repair it.
  it.each([
    ['the table flushed', () => ['flush', 'table', 'inet', 'knockwatch']],
    ['the gate rule deleted', () => ['delete', 'rule', 'inet', 'knockwatch', 'input', 'handle', gateHandle()]],
    ['a rule added', () => ['add', 'rule', 'inet', 'knockwatch', 'input', 'tcp', 'dport', '22', 'accept']],
    ['the whitelist element deleted', () => ['delete', 'element', 'inet', 'knockwatch', 'whitelist4', '{ 192.0.2.10 }']],
    ['a foreign element in a grant set', () => ['add', 'element', 'inet', 'knockwatch', 'grant4_0', '{ 198.51.100.66 }']],
    ['a grant element deleted', () => ['delete', 'element', 'inet', 'knockwatch', 'grant6_2', '{ 2001:db8::7 }']],
    ['a ban element deleted', () => ['delete', 'element', 'inet', 'knockwatch', 'banned4', '{ 203.0.113.9 }']],
    ['the table deleted', () => ['delete', 'table', 'inet', 'knockwatch']],
  ])('verify notices %s, and start repairs it', async (_what, drift) => {
    const backend = backendOf(plan);
    await backend.start(GRANTS, NOW, BANS);
    expect(await backend.verify(GRANTS, NOW, BANS)).toBe(true);
    ns.exec('nft', drift());
    expect(await backend.verify(GRANTS, NOW, BANS)).toBe(false);
    await backend.start(GRANTS, NOW, BANS);
    expect(await backend.verify(GRANTS, NOW, BANS)).toBe(true);
  });

  it('verify stays true through its own open, close, ban and unban, and knows grants the kernel has expired', async () => {
    const backend = backendOf(plan);
    await backend.start([], NOW);
    const live = grantOf('203.0.113.7', 'openSSH', NOW + 60_000);
    await backend.open(live, NOW);
    await backend.ban({ src: '2001:db8::9', until: NOW + 60_000 }, NOW);
    expect(await backend.verify([live], NOW, [{ src: '2001:db8::9', until: NOW + 60_000 }])).toBe(true);
    await backend.close(live);
    await backend.unban('2001:db8::9');
    // The grant ends in a moment: gone from the kernel or not, both are fine.
    expect(await backend.verify([grantOf('198.51.100.1', 'openSSH', NOW + 500)], NOW, [])).toBe(true);
    // A live grant the set has lost is drift.
    expect(await backend.verify([live], NOW, [])).toBe(false);
  });

  // Nothing in the kernel would end a grant without a timeout once the daemon is gone.
  it('stop closes the grants until closed and leaves those that expire in the kernel', async () => {
    const backend = backendOf(plan);
    const forever = grantOf('203.0.113.7', 'openSSH', Infinity);
    const timed = grantOf('203.0.113.8', 'openSSH', NOW + 60_000);
    const forever6 = grantOf('2001:db8::7', 'web', Infinity);
    await backend.start([forever, timed, forever6], NOW);
    expect(elements('grant4_0').map((elem) => elem.val).sort()).toEqual(['203.0.113.7', '203.0.113.8']);
    expect(elements('grant6_2').map((elem) => elem.val)).toEqual(['2001:db8::7']);
    await backend.stop([forever, timed, forever6]);
    expect(elements('grant4_0').map((elem) => elem.val)).toEqual(['203.0.113.8']);
    expect(elements('grant6_2')).toEqual([]);
  });

  // The kernel adds every source it limits to loglimit4/6; here they are added by hand.
  it('verify stays true while the LOG limit keeps sources, and its rules are drift like any other', async () => {
    const backend = backendOf(plan);
    await backend.start(GRANTS, NOW, BANS);
    ns.exec('nft', ['add', 'element', 'inet', 'knockwatch', 'loglimit4', '{ 198.51.100.5 }']);
    ns.exec('nft', ['add', 'element', 'inet', 'knockwatch', 'loglimit6', '{ 2001:db8::5 }']);
    expect(await backend.verify(GRANTS, NOW, BANS)).toBe(true);
    const limit = listJson().nftables.find((item) => item.rule?.comment === 'knockwatch:log-limit')?.rule?.handle;
    ns.exec('nft', ['delete', 'rule', 'inet', 'knockwatch', 'input', 'handle', String(limit)]);
    expect(await backend.verify(GRANTS, NOW, BANS)).toBe(false);
  });

  // An interval set refuses elements that overlap ("conflicting intervals specified"): a
  // whitelist of a network and an address in it, accepted by the config and by iptables,
  // failed the whole install (a start that cannot begin, a reload refused).
  it('installs a whitelist whose entries overlap, each address in it once', async () => {
    const overlapping = FIREWALL_CONFIG.options.whitelist.flatMap((network) => [network, ...['192.0.2.0/24', '2001:db8:1:2::/64', '192.0.2.0/24'].map((text) => parseNetwork(text) as Network)]);
    const backend = backendOf(buildFirewallPlan({ ...FIREWALL_CONFIG, options: { ...FIREWALL_CONFIG.options, whitelist: overlapping } }));
    await backend.start([], NOW);
    const whitelist = (set: string): unknown[] | undefined => listJson().nftables.find((item) => item.set?.name === set)?.set?.elem;
    expect(whitelist('whitelist4')).toEqual([{ prefix: { addr: '192.0.2.0', len: 24 } }]);
    expect(whitelist('whitelist6')).toEqual([{ prefix: { addr: '2001:db8:1::', len: 48 } }]);
    expect(await backend.verify([], NOW, [])).toBe(true);
  });

  it('exists while installed and is gone after remove', async () => {
    const backend = backendOf(plan);
    await backend.start(GRANTS, NOW, BANS);
    expect(await backend.exists()).toBe(true);
    await backend.remove(GRANTS);
    expect(await backend.exists()).toBe(false);
    expect(ns.exec('nft', ['list', 'ruleset'])).toBe('');
    expect(await backend.probe()).toBeUndefined();
  });

  it('firewall = command: installs only the LOG rules, verifies and removes them', async () => {
    const logRules = backendOf(buildFirewallPlan(FIREWALL_CONFIG, { logOnly: true }));
    const backend = new CommandBackend([], ns.runner, logRules);
    await backend.start([grantOf('203.0.113.7')], NOW);
    const listed = ns.exec('nft', ['list', 'table', 'inet', 'knockwatch']);
    expect(listed).toContain('log prefix "KNOCK "');
    expect(listed).not.toContain('drop');
    // The only sets are the LOG limit's.
    expect([...listed.matchAll(/\bset (\S+) \{/g)].map((match) => match[1])).toEqual(['loglimit4', 'loglimit6']);
    expect(await backend.verify([grantOf('203.0.113.7')], NOW, [])).toBe(true);
    ns.exec('nft', ['flush', 'table', 'inet', 'knockwatch']);
    expect(await backend.verify([grantOf('203.0.113.7')], NOW, [])).toBe(false);
    await backend.remove([]);
    expect(await backend.exists()).toBe(false);
  });
});
