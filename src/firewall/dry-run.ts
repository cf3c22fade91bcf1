import { appendFileSync } from 'node:fs';
import { formatStep } from '../doors/format-step.js';
import type { Grant } from '../access/grant-table.js';
import type { Ban, FirewallBackend } from './backend.js';

// Records what would have been done; with a file, as fail2ban's dummy action does
// (`+ip door` / `-ip door` lines), so tests of the daemon can read it.
export class DryRunBackend implements FirewallBackend {
  readonly name = 'dry-run';
  readonly runsCommands = false;

  endsItself(): boolean {
    return false;
  }

  constructor(private readonly file?: string) {}

  repairHint(): string {
    return `Check that ${this.file ?? 'the record file'} can be written, then reload knockwatch.`;
  }

  async probe(): Promise<string | undefined> {
    return undefined;
  }

  plan(grants: readonly Grant[]): string {
    const lines = ['# dry-run: nothing is installed; grants are only recorded'];
    for (const grant of grants) lines.push(`+${grant.src} ${grant.door} ${grant.ports.map(formatStep).join(',')}`);
    return `${lines.join('\n')}\n`;
  }

  async start(grants: readonly Grant[]): Promise<void> {
    this.record(`start ${grants.length}`);
  }

  async open(grant: Grant): Promise<void> {
    this.record(`+${grant.src} ${grant.door}`);
  }

  async extend(grant: Grant): Promise<void> {
    this.record(`~${grant.src} ${grant.door}`);
  }

  async close(grant: Grant): Promise<void> {
    this.record(`-${grant.src} ${grant.door}`);
  }

  async ban(ban: Ban): Promise<void> {
    this.record(`!${ban.src}`);
  }

  async unban(src: string): Promise<void> {
    this.record(`~!${src}`);
  }

  async stop(): Promise<void> {
    this.record('stop');
  }

  async verify(): Promise<boolean> {
    return true;
  }

  async exists(): Promise<boolean> {
    return false;
  }

  async remove(): Promise<void> {
    this.record('remove');
  }

  private record(line: string): void {
    if (this.file !== undefined) appendFileSync(this.file, `${line}\n`);
  }
}
