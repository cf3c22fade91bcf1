import type { Config, FirewallKind } from '../config/types.js';
import type { FirewallBackend } from './backend.js';
import type { CommandRunner } from './command-runner.js';
import { FIREWALL_REGISTRY, PROBE_ORDER } from './registry.js';

export { findProgram } from './find-program.js';

// The configured backend, or the natural one: command for knockd configs with commands,
// else nftables where nft exists, else iptables.
export function chooseFirewall(config: Config, override?: FirewallKind): FirewallKind {
  const chosen = override ?? config.options.firewall;
  if (chosen !== undefined) return chosen;
  const found = PROBE_ORDER.find((kind) => FIREWALL_REGISTRY[kind].probe(config) !== undefined);
  if (found !== undefined) return found;
  throw new Error('neither nft nor iptables is installed; install nftables, or set firewall = command or dry-run');
}

export function createBackend(kind: FirewallKind, config: Config, runner: CommandRunner, dryRunFile?: string): FirewallBackend {
  return FIREWALL_REGISTRY[kind].create(config, runner, dryRunFile);
}
