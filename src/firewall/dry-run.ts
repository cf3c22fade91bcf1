import { appendFileSync } from 'node:fs';
import { formatStep } from '../config/types.js';
import type { Grant } from '../grants/grant-table.js';
import type { Ban, FirewallBackend } from './backend.js';

export interface DryRunAction {
  action: 'start' | 'open' | 'extend' | 'close' | 'stop' | 'ban' | 'unban';
  src?: string;
  door?: string;
}

// Records what would have been done; with a file, as fail2ban's dummy action does
// (`+ip door` / `-ip door` lines), so tests of the daemon can read it.
export class DryRunBackend implements FirewallBackend {
  readonly name = 'dry-run';
  readonly expiresItself = false;
  readonly actions: DryRunAction[] = [];

  constructor(private readonly file?: string) {}

  plan(grants: readonly Grant[]): string {
    const lines = ['# dry-run: nothing is installed; grants are only recorded'];
    for (const grant of grants) lines.push(`+${grant.src} ${grant.door} ${grant.ports.map(formatStep).join(',')}`);
    return `${lines.join('\n')}\n`;
  }

  async start(grants: readonly Grant[]): Promise<void> {
    this.record({ action: 'start' }, `start ${grants.length}`);
  }

  async open(grant: Grant): Promise<void> {
    this.record({ action: 'open', src: grant.src, door: grant.door }, `+${grant.src} ${grant.door}`);
  }

  async extend(grant: Grant): Promise<void> {
    this.record({ action: 'extend', src: grant.src, door: grant.door }, `~${grant.src} ${grant.door}`);
  }

  async close(grant: Grant): Promise<void> {
    this.record({ action: 'close', src: grant.src, door: grant.door }, `-${grant.src} ${grant.door}`);
  }

  async ban(ban: Ban): Promise<void> {
    this.record({ action: 'ban', src: ban.src }, `!${ban.src}`);
  }

  async unban(src: string): Promise<void> {
    this.record({ action: 'unban', src }, `~!${src}`);
  }

  async stop(): Promise<void> {
    this.record({ action: 'stop' }, 'stop');
  }

  async verify(): Promise<boolean> {
    return true;
  }

  private record(action: DryRunAction, line: string): void {
    this.actions.push(action);
    if (this.file !== undefined) appendFileSync(this.file, `${line}\n`);
  }
}
