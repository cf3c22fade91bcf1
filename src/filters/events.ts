// The typed values filters produce and the engine consumes.

export type Protocol = 'tcp' | 'udp' | 'icmp';

// A Knock's flags are TcpFlag bits; re-exported for the stages that read events.
export { formatFlags, TcpFlag, type TcpFlagName } from '../net/tcp-flags.js';

export interface Knock {
  type: 'knock';
  // Milliseconds since the epoch, with the log's sub-second part.
  time: number;
  prefix: string;
  src: string;
  dst: string;
  proto: Protocol;
  // 0 for ICMP.
  dport: number;
  spt: number;
  flags: number;
  iface: string;
}

export type SshAuthKind =
  | 'accepted'
  | 'failed'
  | 'invalid-user'
  | 'session-opened'
  | 'session-closed'
  | 'disconnected';

export interface SshAuth {
  type: 'ssh';
  time: number;
  kind: SshAuthKind;
  // Absent on pam_unix session lines: the pid ties them to their connection.
  src: string | undefined;
  pid: number;
  user: string | undefined;
  method: string | undefined;
  // "Failed ... for invalid user ...".
  invalidUser: boolean;
}

export type KnockEvent = Knock | SshAuth;
