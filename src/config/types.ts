import type { Network } from '../net/address.js';
import type { FleetOptions } from './fleet-options.js';
import type { ConfigWarning } from './problems.js';
import type { Secret } from './secret.js';

export type PortProtocol = 'tcp' | 'udp';
// 'icmp': an echo request (ICMP or ICMPv6), `port` holding its IP packet length (the kernel's LEN=).
export type StepProtocol = PortProtocol | 'icmp';

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
  | { kind: 'one-time'; sequences: readonly (readonly DoorStep[])[]; file?: string | undefined; mark?: MarkUsed | undefined }
  | RotatingSpec;

export interface PortRange {
  low: number;
  high: number;
}

// A door whose sequence is derived from a secret and the time window (src/doors/rotating.ts):
// `hmac` (knockwatch's own), or `md5-hour` (the well-known hourly md5 shell recipe).
export interface RotatingSpec {
  kind: 'rotating';
  derive: 'hmac' | 'md5-hour';
  // The door's name: part of what is derived.
  door: string;
  secret: Secret;
  // Window length in seconds (md5-hour: 3600).
  rotate: number;
  range: PortRange;
  length: number;
  protocols: readonly StepProtocol[];
  // Windows either side of the current one that are accepted too.
  skew: number;
  bindSource: boolean;
  oncePerWindow: boolean;
  // Ports of the range never used: other doors' steps and trap ports (hmac only).
  exclude: readonly number[];
  records?: WindowRecords | undefined;
}

// Where the windows a once_per_window door burnt are kept. The live daemon gives one that the
// state file keeps; without one (replay, check) a door keeps them in memory.
export interface WindowRecords {
  // Whether `src` used window `window` (epoch seconds) of `door`.
  burnt(door: string, src: string, window: number): boolean;
  // Kept until `until` (ms), when the window is accepted no more.
  burn(door: string, src: string, window: number, until: number): void;
  // A knock's time makes `window` (of `rotate` seconds) the current one of `door`: returns the
  // latest window the door ever had as current (this one, or a later one when the clock went
  // back), as a window of `rotate`, so that no window older than that minus skew is accepted again.
  current(door: string, window: number, rotate: number): number;
}

// Marks `sequence`'s line in a one_time_sequences file used, durably; throws when it cannot.
// Only the live daemon gives one: replay and check write nothing.
export type MarkUsed = (file: string, sequence: readonly DoorStep[]) => void;

export interface Door {
  name: string;
  knock: KnockSpec;
  // The whole sequence, from its first knock. With only step_timeout given: step_timeout
  // times the longest sequence, which the steps can never exceed (no whole-sequence limit).
  seqTimeout: number;
  // Each step after the first within this long of the one before; undefined: no such limit.
  stepTimeout: number | undefined;
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
  // A granted address's knock on one of this door's ports out of sequence closes its grant.
  closeOnWrongKnock: boolean;
  // The ports next to each step are trap ports (options.trapPorts gets them, src/config/trap-adjacent.ts).
  trapAdjacent: boolean;
  // Concurrent connections one granted address may have through this door's gate; undefined: no limit.
  maxConnections: number | undefined;
  startCommand: string | undefined;
  stopCommand: string | undefined;
  // knockd's start_command_6 / stop_command_6 (command_6): for IPv6 sources; when unset the
  // plain command is used, as knockd does.
  startCommand6: string | undefined;
  stopCommand6: string | undefined;
  // What the door's knockd commands mean under a managed firewall, for `check`
  // ("closeSSH closes openSSH's 22/tcp"); undefined when they are not translated.
  commandTranslation: string | undefined;
  // Whether the door's grants are shared with the fleet ([fleet]; `fleet = no` keeps them local).
  fleet: boolean;
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
  // [fleet], when given.
  fleet: FleetOptions | undefined;
}
