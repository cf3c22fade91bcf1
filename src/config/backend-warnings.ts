import type { DoorDraft } from './door-commands.js';
import type { ConfigWarning } from './problems.js';
import type { SectionReader } from './section-reader.js';

// How the config's firewall works: knockwatch's own ruleset, knockd's commands, or nothing.
export type FirewallMode = 'managed' | 'command' | 'dry-run';

const BAN_KEYS = ['maxretry', 'findtime', 'bantime', 'bantime_max'];
const COMMAND_KEYS = ['start_command', 'command', 'stop_command', 'start_command_6', 'command_6', 'stop_command_6'];

// Keys that are accepted but do nothing (or less than they seem to) with this firewall.
export function warnIneffectiveKeys(options: SectionReader, drafts: readonly DoorDraft[], mode: FirewallMode, firewall: string): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const warn = (reader: SectionReader, key: string, message: string): void => {
    warnings.push({ file: reader.file, section: reader.section, key: reader.originalKey(key), message });
  };
  if (mode === 'command') {
    if (options.has('whitelist')) warn(options, 'whitelist', 'no effect on the firewall with firewall = command (no gate, no accept rules of its own): your own firewall must let these addresses in.');
    for (const key of BAN_KEYS.filter((candidate) => options.has(candidate))) {
      warn(options, key, 'with firewall = command nothing is dropped (no ruleset of its own): a ban only ends the address\'s grants and refuses its knocks.');
    }
    if (options.has('trap_ports')) warn(options, 'trap_ports', 'with firewall = command nothing is dropped: a trap only refuses the source\'s knocks for trap_for.');
  }
  for (const { reader, openGiven, door } of drafts) {
    if (mode === 'command' && openGiven !== undefined) warn(reader, 'open', 'no effect with firewall = command: the door\'s commands decide what opens.');
    if (mode === 'command' && door.closes === undefined && door.startCommand === undefined && door.startCommand6 === undefined) {
      warnings.push({ file: reader.file, section: reader.section, key: '', message: 'no start_command: with firewall = command completing this door runs nothing.' });
    }
    if (mode !== 'managed' && door.maxConnections !== undefined) {
      warn(reader, 'max_connections', `no effect with firewall = ${mode}: only knockwatch's own ruleset (nftables, iptables) counts connections.`);
    }
    if (mode === 'managed' && door.commandTranslation !== undefined) {
      for (const key of COMMAND_KEYS.filter((candidate) => reader.has(candidate))) {
        warn(reader, key, `translated, not run (firewall = ${firewall}): ${door.commandTranslation}.`);
      }
    }
    if (door.closes !== undefined) {
      for (const key of ['open_for', 'cmd_timeout'].filter((candidate) => reader.has(candidate))) {
        warn(reader, key, `no effect on a door that only closes ${door.closes}.`);
      }
    }
  }
  return warnings;
}
