import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Config, FirewallKind } from '../config/types.js';
import type { FirewallBackend } from './backend.js';
import { CommandBackend } from './command-backend.js';
import type { CommandRunner } from './command-runner.js';
import { DryRunBackend } from './dry-run.js';
import { IptablesBackend } from './iptables.js';
import { NftablesBackend } from './nftables.js';
import { buildFirewallPlan } from './plan.js';

export function findProgram(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin']) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

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
      return new CommandBackend(config.doors, runner);
    case 'dry-run':
      return new DryRunBackend(dryRunFile);
  }
}
