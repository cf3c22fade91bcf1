import type { Grant } from '../grants/grant-table.js';
import type { FirewallBackend } from './backend.js';

export interface DryRunAction {
  action: 'start' | 'open' | 'extend' | 'close' | 'stop';
  src?: string;
  door?: string;
}

// Records what would have been done (`+ip` / `-ip` in fail2ban's dummy action terms).
export class DryRunBackend implements FirewallBackend {
  readonly name = 'dry-run';
  readonly actions: DryRunAction[] = [];

  async start(): Promise<void> {
    this.actions.push({ action: 'start' });
  }

  async open(grant: Grant): Promise<void> {
    this.actions.push({ action: 'open', src: grant.src, door: grant.door });
  }

  async extend(grant: Grant): Promise<void> {
    this.actions.push({ action: 'extend', src: grant.src, door: grant.door });
  }

  async close(grant: Grant): Promise<void> {
    this.actions.push({ action: 'close', src: grant.src, door: grant.door });
  }

  async stop(): Promise<void> {
    this.actions.push({ action: 'stop' });
  }
}
