import type { Grant } from '../access/grant-table.js';

// An address refused for failed logins until `until`.
export interface Ban {
  src: string;
  until: number;
}

// The one place that changes the firewall. Managed backends own their whole piece of it.
export interface FirewallBackend {
  readonly name: string;
  // Whether a grant ends in the firewall by itself (a grant with a lifetime under nftables: a
  // set timeout). A clean stop closes the others and forgets them; these stay for the next start.
  endsItself(grant: Grant): boolean;
  // Whether grants are opened and closed by commands that a reinstall cannot undo (knockd's
  // start_command/stop_command): the daemon then journals each in the state file, so a
  // restart never runs a start twice nor forgets a stop that is owed.
  readonly runsCommands: boolean;
  // What the operator should check when a change keeps failing, ending with "then reload".
  repairHint(configFile: string): string;
  // Whether this backend can work on this machine, changing nothing: undefined if it can,
  // else one sentence saying what is wrong and how to fix it.
  probe(): Promise<string | undefined>;
  // The knock LOG rules' per-source limit as start() installs it, per family, for
  // `knockwatch check` (none when log_limit = off or nothing is installed). With `at`, the
  // rotating doors' knock ports of that time are in it; without, only the ports that do not
  // turn (those are derived from the doors' secrets).
  logLimitRules?(at?: number): readonly { family: 4 | 6; rule: string }[];
  // The text of what start() installs, for `knockwatch check`; `hideTurning`: without the
  // rotating doors' knock ports (derived from their secrets).
  plan(grants: readonly Grant[], now: number, bans?: readonly Ban[], hideTurning?: boolean): string;
  // Installs (or atomically replaces) everything knockwatch owns, with these live grants
  // and bans.
  start(grants: readonly Grant[], now: number, bans?: readonly Ban[]): Promise<void>;
  open(grant: Grant, now: number): Promise<void>;
  extend(grant: Grant, now: number): Promise<void>;
  // `stop`: the command recorded when the grant's start command ran (command backend only).
  close(grant: Grant, stop?: string): Promise<void>;
  // The command that will undo open(grant) as the config says now (command backend only).
  undoCommand?(grant: Grant): string | undefined;
  // Drops new connections from the address (managed backends only).
  ban(ban: Ban, now: number): Promise<void>;
  unban(src: string): Promise<void>;
  // On a clean exit: what must not outlive the daemon goes (never the gate or whitelist).
  stop(grants: readonly Grant[]): Promise<void>;
  // A reload replaced this backend: processes it keeps open end; the firewall is left as is.
  release?(): Promise<void>;
  // True only if the installed content is what start(grants, now, bans) would install.
  // Without grants (an older caller) the grant and ban entries are not compared.
  verify(grants?: readonly Grant[], now?: number, bans?: readonly Ban[]): Promise<boolean>;
  // The same comparison as verify(), reading only: it changes nothing the backend keeps, so
  // it may run while changes are applied (a change that lands meanwhile can make it say
  // false, never wrongly true). Lets the periodic check run without holding grants back.
  check?(grants: readonly Grant[], now: number, bans: readonly Ban[]): Promise<boolean>;
  // Whether anything of knockwatch's is installed now.
  exists(): Promise<boolean>;
  // Takes away everything this backend installed, gate and whitelist included.
  remove(grants: readonly Grant[]): Promise<void>;
  // Takes away what knockwatch installed in the other kind (nftables or iptables): left by a
  // run with another `firewall =`, its gate would drop what this one accepts. Says what it
  // removed; undefined when there was nothing (managed backends, and the command backend's
  // LOG rules).
  removeOtherKind?(): Promise<string | undefined>;
}

// Closes each grant through `close` (a clean stop): one that fails does not keep the others
// open; afterwards one error names every grant that could not be closed.
export async function closeEach(grants: readonly Grant[], close: (grant: Grant) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const grant of grants) {
    await close(grant).catch((error: Error) => failures.push(`${grant.src} (${grant.door}): ${error.message}`));
  }
  if (failures.length > 0) throw new Error(`${failures.length} grant(s) could not be closed: ${failures.join('; ')}`);
}
