import type { Config, FirewallKind } from '../config/types.js';
import type { FirewallBackend } from './backend.js';
import { CommandBackend } from './command-backend.js';
import type { CommandRunner } from './command-runner.js';
import { DryRunBackend } from './dry-run.js';
import { findProgram } from './find-program.js';
import { IptablesBackend } from './iptables.js';
import { NftablesBackend } from './nftables.js';
import { buildFirewallPlan } from './plan.js';

export interface FirewallEntry {
  create(config: Config, runner: CommandRunner, dryRunFile: string | undefined): FirewallBackend;
  // With no firewall configured: why this kind fits the config and the machine, or undefined
  // when it does not (dry-run is never picked by itself).
  probe(config: Config): string | undefined;
}

// One entry per kind of config/types.ts FIREWALL_KINDS: config validation, `run` and `check`
// all go through it.
export const FIREWALL_REGISTRY: Readonly<Record<FirewallKind, FirewallEntry>> = {
  nftables: {
    create: (config, runner) => new NftablesBackend(buildFirewallPlan(config), runner),
    probe: () => (findProgram('nft') ? 'nft found' : undefined),
  },
  iptables: {
    create: (config, runner) => new IptablesBackend(buildFirewallPlan(config), runner),
    probe: () => (findProgram('iptables') ? 'iptables found, no nft' : undefined),
  },
  command: {
    create: (config, runner) => new CommandBackend(config.doors, runner, createLogRules(config, runner)),
    probe: (config) => (config.doors.some((door) => door.startCommand !== undefined) ? 'doors have start_command' : undefined),
  },
  'dry-run': {
    create: (_config, _runner, dryRunFile) => new DryRunBackend(dryRunFile),
    probe: () => undefined,
  },
};

// The order kinds are probed in when the config names none: knockd's commands first, then
// nftables, then iptables.
export const PROBE_ORDER: readonly FirewallKind[] = ['command', 'nftables', 'iptables'];

// The knock LOG rules of firewall = command: in nftables where nft exists, else iptables.
function createLogRules(config: Config, runner: CommandRunner): FirewallBackend {
  const plan = buildFirewallPlan(config, { logOnly: true });
  return findProgram('nft') ? new NftablesBackend(plan, runner) : new IptablesBackend(plan, runner);
}
