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
  // ICMP and ICMPv6 only: the type (echo request: 8, ICMPv6 128) and the IP packet length
  // (the kernel's LEN=), which an `icmp:N` step matches.
  icmpType?: number;
  len?: number;
}

// Whether a knock is an echo request of its own family, the only ICMP an `icmp:N` step takes.
export function isEchoRequest(knock: Knock): boolean {
  return knock.proto === 'icmp' && knock.icmpType === (knock.src.includes(':') ? 128 : 8);
}

// What an sshd line means to access: a failure counts toward maxretry, a login starts a
// session, a logout ends a connection (a session if it had logged in), noise counts nothing.
export const SSH_CLASSES = ['failure', 'login', 'logout', 'noise'] as const;
export type SshClass = (typeof SSH_CLASSES)[number];

// Which message it was (filters/sshd.conf names each regex's kind).
export const SSH_AUTH_KINDS = [
  'accepted', 'session-opened', 'session-closed', 'disconnected', 'failed', 'invalid-user', 'not-allowed', 'root-refused', 'refused-connect',
  'pam-failure', 'max-attempts', 'too-many-failures', 'username-change', 'auth-fail', 'postponed', 'received-disconnect',
  'pam-unix-failure', 'no-identification', 'bad-protocol', 'bad-banner', 'no-matching-algorithm', 'preauth-timeout', 'penalty-drop',
  'connection-from',
] as const;
export type SshAuthKind = (typeof SSH_AUTH_KINDS)[number];

export interface SshAuth {
  type: 'ssh';
  time: number;
  class: SshClass;
  kind: SshAuthKind;
  // Absent on lines that name no address (pam_unix session lines, "Disconnecting: Too many
  // authentication failures"): the pid ties them to their connection.
  src: string | undefined;
  // Absent when the line's tag carries none: such a line is tied to no connection.
  pid: number | undefined;
  // The client's port (1-65535), on logins and logouts whose line names it: with privilege
  // separation the logout lines come from another pid than the login, and (src, port) is
  // what ties them to it.
  port?: number | undefined;
  user: string | undefined;
  method: string | undefined;
  // "Failed ... for invalid user ...".
  invalidUser: boolean;
}

export type KnockEvent = Knock | SshAuth;
