import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { FIREWALL_CONFIG } from '../helpers/firewall-config.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

// A restart that changed `firewall =`: the other kind's piece, its gate included, is still
// installed, and its gate drops what the new ruleset accepts. Real nft and iptables in a
// private network namespace of this suite's own.
const missing = missingPrerequisites(['nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'ip'], true);
explainSkip('removing the other firewall kind\'s rules', missing);

const NOW = 1_000_000;
const plan = buildFirewallPlan(FIREWALL_CONFIG);

describe.skipIf(missing.length > 0)('removing the other firewall kind\'s rules', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = createNamespace(`kwfw-other-${process.pid}`);
  });
  afterAll(() => ns?.remove());

  const installed = (): { nft: boolean; ipt4: boolean; ipt6: boolean; jump4: boolean } => {
    const has = (file: string, args: string[]): boolean => {
      try {
        ns.exec(file, args);
        return true;
      } catch {
        return false;
      }
    };
    return {
      nft: has('nft', ['list', 'table', 'inet', 'knockwatch']),
      ipt4: has('iptables', ['-w', '-S', 'KNOCKWATCH']),
      ipt6: has('ip6tables', ['-w', '-S', 'KNOCKWATCH']),
      jump4: ns.exec('iptables', ['-w', '-S', 'INPUT']).includes('-j KNOCKWATCH'),
    };
  };

  // Each kind after a run with the other: what it removes, and what is installed then.
  it.each([
    { kind: 'nftables', old: 'iptables', removed: 'iptables/ip6tables chain KNOCKWATCH', after: { nft: true, ipt4: false, ipt6: false, jump4: false } },
    { kind: 'iptables', old: 'nftables', removed: 'nftables table inet knockwatch', after: { nft: false, ipt4: true, ipt6: true, jump4: true } },
  ] as const)('$kind removes what an $old run left, and only that', async ({ kind, old, removed, after }) => {
    const backendOf = (which: 'nftables' | 'iptables'): NftablesBackend | IptablesBackend => (which === 'nftables' ? new NftablesBackend(plan, ns.runner) : new IptablesBackend(plan, ns.runner));
    const left = backendOf(old);
    await left.start([], NOW, []);
    await left.release?.();
    const backend = backendOf(kind);
    await backend.start([], NOW, []);
    expect(installed()).toEqual({ nft: true, ipt4: true, ipt6: true, jump4: true });
    expect(await backend.removeOtherKind()).toBe(removed);
    expect(installed()).toEqual(after);
    // Nothing left of it: nothing to say.
    expect(await backend.removeOtherKind()).toBeUndefined();
    await backend.remove([]);
    await backend.release?.();
  });

  // firewall = command keeps its knock LOG rules in one kind (nftables where nft exists): what
  // it removes is the other.
  it('firewall = command removes the kind its LOG rules are not in', async () => {
    const old = new IptablesBackend(plan, ns.runner);
    await old.start([], NOW, []);
    await old.release?.();
    const logRules = new NftablesBackend(buildFirewallPlan(FIREWALL_CONFIG, { logOnly: true }), ns.runner);
    const command = new CommandBackend(FIREWALL_CONFIG.doors, ns.runner, logRules);
    await command.start([], NOW);
    expect(await command.removeOtherKind()).toBe('iptables/ip6tables chain KNOCKWATCH');
    expect(installed()).toEqual({ nft: true, ipt4: false, ipt6: false, jump4: false });
    await command.remove([]);
    await command.release?.();
  });
});
