import type { Door } from '../config/types.js';
import type { Grant } from '../grants/grant-table.js';
import { normalizeAddress } from '../net/address.js';
import type { FirewallBackend } from './backend.js';
import { runOrThrow, type CommandRunner } from './command-runner.js';
import { splitCommand, substituteAddress } from './split-command.js';

// knockd's way: start_command when a door opens, stop_command when its grant ends.
export class CommandBackend implements FirewallBackend {
  readonly name = 'command';
  readonly expiresItself = false;
  private readonly doors: Map<string, Door>;

  constructor(
    doors: readonly Door[],
    private readonly runner: CommandRunner,
  ) {
    this.doors = new Map(doors.map((door) => [door.name, door]));
  }

  plan(): string {
    const lines = ['# command: no ruleset of its own; per door:'];
    for (const door of this.doors.values()) {
      if (door.startCommand) lines.push(`[${door.name}] open:  ${door.startCommand}`);
      if (door.stopCommand) lines.push(`[${door.name}] close: ${door.stopCommand}`);
    }
    return `${lines.join('\n')}\n`;
  }

  async start(grants: readonly Grant[]): Promise<void> {
    for (const grant of grants) await this.open(grant);
  }

  async open(grant: Grant): Promise<void> {
    await this.runFor(grant, this.doors.get(grant.door)?.startCommand);
  }

  async extend(): Promise<void> {
    // Still open; stop_command runs when the later expiry comes.
  }

  async close(grant: Grant): Promise<void> {
    await this.runFor(grant, this.doors.get(grant.door)?.stopCommand);
  }

  async ban(): Promise<void> {
    // No ruleset of its own: a ban here only revokes grants and refuses knocks.
  }

  async unban(): Promise<void> {
    // See ban().
  }

  async stop(grants: readonly Grant[]): Promise<void> {
    for (const grant of grants) await this.close(grant);
  }

  async exists(): Promise<boolean> {
    return false;
  }

  async remove(): Promise<void> {
    // stub
  }

  async probe(): Promise<string | undefined> {
    return undefined;
  }

  async verify(): Promise<boolean> {
    return true;
  }

  private async runFor(grant: Grant, command: string | undefined): Promise<void> {
    if (command === undefined) return;
    const address = normalizeAddress(grant.src);
    if (address === undefined || address !== grant.src) throw new Error(`refusing to run a command for the unvalidated address "${grant.src}"`);
    const split = splitCommand(command);
    if (!split.ok) throw new Error(`[${grant.door}] command: ${split.reason}`);
    const [file, ...args] = substituteAddress(split.argv, address);
    if (file === undefined) return;
    await runOrThrow(this.runner, file, args);
  }
}
