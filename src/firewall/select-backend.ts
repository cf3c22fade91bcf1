import type { Config, FirewallKind } from '../config/types.js';
import type { FirewallBackend } from './backend.js';
import { CommandBackend } from './command-backend.js';
import type { CommandRunner } from './command-runner.js';
import { DryRunBackend } from './dry-run.js';
import { findProgram } from './find-program.js';
import { IptablesBackend } from './iptables.js';
import { NftablesBackend } from './nftables.js';
import { buildFirewallPlan } from './plan.js';

export { findProgram } from './find-program.js';

// The configured backend, or the natural one: command for knockd configs with commands,
// else nftables where nft exists, else iptables.
export function chooseFirewall(config: Config, override?: FirewallKind): FirewallKind {
  const chosen = override ?? config.options.firewall;
  if (chosen !== undefined) return chosen;
  if (config.doors.some((door) => door.startCommand !== undefined)) return 'command';
  if (findProgram('nft')) return 'nftables';
  if (findProgram('iptables')) return 'iptables';
  throw new Error('neither nft nor iptables is installed; install nftables, or set firewall = command or dry-run');
}

export function createBackend(kind: FirewallKind, config: Config, runner: CommandRunner, dryRunFile?: string): FirewallBackend {
  switch (kind) {
    case 'nftables':
      return new NftablesBackend(buildFirewallPlan(config), runner);
    case 'iptables':
      return new IptablesBackend(buildFirewallPlan(config), runner);
    case 'command':
      return new CommandBackend(config.doors, runner, createLogRules(config, runner));
    case 'dry-run':
      return new DryRunBackend(dryRunFile);
  }
}

// The knock LOG rules of firewall = command: in nftables where nft exists, else iptables.
function createLogRules(config: Config, runner: CommandRunner): FirewallBackend {
  const plan = buildFirewallPlan(config, { logOnly: true });
  return findProgram('nft') ? new NftablesBackend(plan, runner) : new IptablesBackend(plan, runner);
}
