import type { Network } from '../net/address.js';
import type { ConfigWarning } from './problems.js';

export type StepProtocol = 'tcp' | 'udp';

export interface DoorStep {
  port: number;
  proto: StepProtocol;
}

export interface TcpFlagRule {
  // Bits that must be set and bits that must be clear (`syn,!ack`).
  required: number;
  forbidden: number;
  text: string;
}

// What a door accepts as its knock, by kind; src/doors/ implements each kind.
export type KnockSpec =
  | { kind: 'static'; sequence: readonly DoorStep[] }
  // knockd's one_time_sequences: each sequence opens once, in the file's order.
  | { kind: 'one-time'; sequences: readonly (readonly DoorStep[])[] };

export interface Door {
  name: string;
  knock: KnockSpec;
  seqTimeout: number;
  tcpflags: TcpFlagRule | undefined;
  order: 'sequence' | 'any';
  destination: string | undefined;
  strict: boolean;
  // What a grant opens (empty for a door that only closes another).
  open: readonly DoorStep[];
  // Grant lifetime in milliseconds; 0 means until closed.
  openFor: number;
  closes: string | undefined;
  closeOnLogout: boolean;
  startCommand: string | undefined;
  stopCommand: string | undefined;
  // knockd's start_command_6 / stop_command_6 (command_6): for IPv6 sources; when unset the
  // plain command is used, as knockd does.
  startCommand6: string | undefined;
  stopCommand6: string | undefined;
  // What the door's knockd commands mean under a managed firewall, for `check`
  // ("closeSSH closes openSSH's 22/tcp"); undefined when they are not translated.
  commandTranslation: string | undefined;
}

// The firewall kinds a config and --firewall may name; src/firewall/registry.ts has one
// backend for each.
export const FIREWALL_KINDS = ['nftables', 'iptables', 'command', 'dry-run'] as const;
export type FirewallKind = (typeof FIREWALL_KINDS)[number];

export function isFirewallKind(text: string): text is FirewallKind {
  return (FIREWALL_KINDS as readonly string[]).includes(text);
}

// Where knocks (kernel_source) or sshd's lines (auth_source) are read from; `auto` is
// decided on the machine (src/runtime/source-choice.ts).
export type SourceChoice =
  | { kind: 'auto' }
  | { kind: 'kmsg' }
  | { kind: 'journal' }
  | { kind: 'file'; path: string }
  | { kind: 'none' };

// The per-source limit on the knock LOG rules: packets per second, and how many may come
// at once.
export interface LogLimit {
  rate: number;
  burst: number;
}

export interface Options {
  kernelSource: SourceChoice;
  authSource: SourceChoice;
  // The journal the journal sources read (journalctl --directory); undefined: the system's.
  journalDirectory: string | undefined;
  firewall: FirewallKind | undefined;
  whitelist: readonly Network[];
  stateFile: string;
  logPrefix: string | undefined;
  timeZone: string | undefined;
  maxTracked: number;
  // Sources whose only knock so far is a first step, kept compactly apart from max_tracked
  // (0: none, every source counts against max_tracked).
  maxFirstSteps: number;
  retransmitWindow: number;
  trapPorts: readonly DoorStep[];
  trapFor: number;
  // undefined: log_limit = off.
  logLimit: LogLimit | undefined;
  // sshd failures: maxretry within findtime bans for bantime (doubling per repeat, up to
  // bantime_max); a logout closes close_on_logout grants after logout_grace.
  maxRetry: number;
  findTime: number;
  banTime: number;
  banTimeMax: number;
  logoutGrace: number;
  // Where the running daemon answers `knockwatch status`, `unban` and `close`.
  controlSocket: string;
}

export interface Config {
  file: string;
  options: Options;
  doors: readonly Door[];
  // Keys knockd knows that knockwatch accepts but does not use (reported, not refused).
  unused: readonly string[];
  // Accepted, but probably not what was meant (printed by `check`, logged at start).
  warnings: readonly ConfigWarning[];
}
