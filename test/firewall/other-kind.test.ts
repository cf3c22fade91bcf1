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

  it('nftables removes what an iptables run left, and only that', async () => {
    const old = new IptablesBackend(plan, ns.runner);
    await old.start([], NOW, []);
    await old.release?.();
    const nft = new NftablesBackend(plan, ns.runner);
    await nft.start([], NOW, []);
    expect(installed()).toEqual({ nft: true, ipt4: true, ipt6: true, jump4: true });
    expect(await nft.removeOtherKind()).toBe('the iptables/ip6tables chain KNOCKWATCH');
    expect(installed()).toEqual({ nft: true, ipt4: false, ipt6: false, jump4: false });
    // Nothing left of it: nothing to say.
    expect(await nft.removeOtherKind()).toBeUndefined();
    await nft.remove([]);
    await nft.release?.();
  });

  it('iptables removes what an nftables run left, and only that', async () => {
    const old = new NftablesBackend(plan, ns.runner);
    await old.start([], NOW, []);
    await old.release?.();
    const ipt = new IptablesBackend(plan, ns.runner);
    await ipt.start([], NOW, []);
    expect(installed()).toEqual({ nft: true, ipt4: true, ipt6: true, jump4: true });
    expect(await ipt.removeOtherKind()).toBe('the nftables table inet knockwatch');
    expect(installed()).toEqual({ nft: false, ipt4: true, ipt6: true, jump4: true });
    expect(await ipt.removeOtherKind()).toBeUndefined();
    await ipt.remove([]);
    await ipt.release?.();
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
    expect(await command.removeOtherKind()).toBe('the iptables/ip6tables chain KNOCKWATCH');
    expect(installed()).toEqual({ nft: true, ipt4: false, ipt6: false, jump4: false });
    await command.remove([]);
    await command.release?.();
  });
});
