import type { Door } from '../config/types.js';
import type { Grant } from '../access/grant-table.js';
import { addressFamily, normalizeAddress } from '../net/address.js';
import { closeEach, type Ban, type FirewallBackend } from './backend.js';
import { runOrThrow, type CommandRunner } from './command-runner.js';
import { findProgram } from './find-program.js';
import { splitCommand, substituteAddress } from '../text/split-command.js';

// knockd's way: start_command when a door opens, stop_command when its grant ends. The
// firewall is knockd's commands' own, except for the knock LOG rules, which `logRules` (a
// managed backend with a log-only plan) installs, or knockwatch would never see a knock.
export class CommandBackend implements FirewallBackend {
  readonly name = 'command';
  readonly runsCommands = true;

  // A stop command ends each grant; nothing ends one by itself.
  endsItself(): boolean {
    return false;
  }

  private readonly doors: Map<string, Door>;

  constructor(
    doors: readonly Door[],
    private readonly runner: CommandRunner,
    private readonly logRules: FirewallBackend,
    private readonly locate: (program: string) => string | undefined = findProgram,
  ) {
    this.doors = new Map(doors.map((door) => [door.name, door]));
  }

  repairHint(configFile: string): string {
    return `Check the door's commands in ${configFile} (run one by hand with an address for %IP%), then reload knockwatch.`;
  }

  async probe(): Promise<string | undefined> {
    for (const door of this.doors.values()) {
      for (const [key, command] of commandsOf(door)) {
        const split = splitCommand(command);
        if (!split.ok) return `[${door.name}] ${key}: ${split.reason}; fix the command.`;
        const program = split.argv[0] ?? '';
        if (this.locate(program) === undefined) return `[${door.name}] ${key}: program "${program}" not found or not executable; install it or give its absolute path.`;
      }
    }
    return this.logRules.probe();
  }

  plan(_grants: readonly Grant[], now: number, _bans: readonly Ban[] = [], hideTurning = false): string {
    const lines = ['# command: knockwatch installs only the knock LOG rules:'];
    const commands = ['# knockd commands per door:'];
    for (const door of this.doors.values()) for (const [key, command] of commandsOf(door)) commands.push(`[${door.name}] ${key}: ${command}`);
    return `${lines.join('\n')}\n${this.logRules.plan([], now, [], hideTurning)}${commands.join('\n')}\n`;
  }

  logLimitRules(at?: number): readonly { family: 4 | 6; rule: string }[] {
    return this.logRules.logLimitRules?.(at) ?? [];
  }

  // The grants given were started by an earlier run: only the LOG rules are installed.
  async start(_grants: readonly Grant[], now: number): Promise<void> {
    await this.logRules.start([], now, []);
  }

  async open(grant: Grant, _now?: number): Promise<void> {
    const door = this.doors.get(grant.door);
    await this.runFor(grant, 'start_command', commandFor(grant.src, door?.startCommand, door?.startCommand6));
  }

  // A door without stop_command is knockd's one-shot command: every completed knock runs it
  // again, as under knockd (another door may have deleted what it added meanwhile).
  async extend(grant: Grant): Promise<void> {
    const door = this.doors.get(grant.door);
    if (door === undefined || door.stopCommand !== undefined || door.stopCommand6 !== undefined) return;
    await this.runFor(grant, 'start_command', commandFor(grant.src, door.startCommand, door.startCommand6));
  }

  // `stop`, when given, is the stop command recorded when this grant's start command ran.
  async close(grant: Grant, stop?: string): Promise<void> {
    await this.runFor(grant, 'stop_command', stop ?? this.undoCommand(grant));
  }

  undoCommand(grant: Grant): string | undefined {
    const door = this.doors.get(grant.door);
    return commandFor(grant.src, door?.stopCommand, door?.stopCommand6);
  }

  async ban(_ban: Ban): Promise<void> {
    // No ruleset of its own: a ban here only revokes grants and refuses knocks.
  }

  async unban(): Promise<void> {
    // See ban().
  }

  // The LOG rules stay, like a managed backend's gate. Every stop command is tried.
  async stop(grants: readonly Grant[]): Promise<void> {
    await closeEach(grants, (grant) => this.close(grant));
  }

  async verify(_grants?: readonly Grant[], now?: number, _bans?: readonly Ban[]): Promise<boolean> {
    return this.logRules.verify([], now ?? 0, []);
  }

  async exists(): Promise<boolean> {
    return this.logRules.exists();
  }

  async removeOtherKind(): Promise<string | undefined> {
    return await this.logRules.removeOtherKind?.();
  }

  async release(): Promise<void> {
    await this.logRules.release?.();
  }

  // Every stop command is tried, and the LOG rules go, even when one fails; then the first
  // failure is reported.
  async remove(grants: readonly Grant[]): Promise<void> {
    const failures: unknown[] = [];
    for (const grant of grants) await this.close(grant).catch((error: unknown) => failures.push(error));
    await this.logRules.remove([]);
    if (failures.length > 0) throw failures[0];
  }

  // `chosen`: the door's command for the grant's family (commandFor).
  private async runFor(grant: Grant, key: string, chosen: string | undefined): Promise<void> {
    const address = normalizeAddress(grant.src);
    if (address === undefined || address !== grant.src) throw new Error(`refusing to run a command for the unvalidated address "${grant.src}"`);
    if (chosen === undefined) return;
    const split = splitCommand(chosen);
    if (!split.ok) throw new Error(`[${grant.door}] ${key}: ${split.reason}`);
    const [file, ...args] = substituteAddress(split.argv, address);
    if (file === undefined) return;
    await runOrThrow(this.runner, file, args);
  }
}

// As knockd: the _6 command for IPv6 addresses, the plain one when there is none.
function commandFor(src: string, command: string | undefined, command6: string | undefined): string | undefined {
  return addressFamily(src) === 6 ? command6 ?? command : command;
}

function commandsOf(door: Door): [string, string][] {
  const commands: [string, string | undefined][] = [
    ['start_command', door.startCommand],
    ['start_command_6', door.startCommand6],
    ['stop_command', door.stopCommand],
    ['stop_command_6', door.stopCommand6],
  ];
  return commands.filter((entry): entry is [string, string] => entry[1] !== undefined);
}
