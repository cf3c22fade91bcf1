import type { SshAuth } from '../filters/events.js';
import { AgingMap } from './aging-map.js';
import type { KeptAddresses } from './kept-addresses.js';

// At most this many connections are followed (the oldest is forgotten first).
export const MAX_ATTEMPT_CONNECTIONS = 20_000;
// How long a failure whose line names no address waits for a line of its pid that does:
// sshd's default LoginGraceTime, the longest a connection stays unauthenticated. Past it the
// pid may be another connection's.
export const HELD_FOR_MS = 120_000;

interface Connection {
  src: string;
  counted: number;
  // A line announced an attempt ("Invalid user", "error: PAM: ...") and counted it: the
  // next "Failed ..." of the connection is that same attempt.
  announced: boolean;
}

// Failure lines that announce the attempt whose "Failed ..." line follows.
const ANNOUNCING = new Set(['invalid-user', 'not-allowed', 'root-refused', 'pam-failure']);
// Failure lines that sum up the attempts before them.
const SUMMING_UP = new Set(['max-attempts', 'too-many-failures', 'auth-fail']);

// Which sshd failure lines are attempts not counted yet, per connection (sshd pid and
// address): sshd writes several lines for one attempt ("Invalid user" then "Failed password
// for invalid user") and sums attempts up ("maximum authentication attempts exceeded"),
// and each attempt counts once toward maxretry.
export class FailedAttempts {
  private readonly connections = new AgingMap<number, Connection>();
  // Failures named without an address ("User root not allowed because account is locked"),
  // by pid, with their time.
  private readonly held = new AgingMap<number, { at: number }>();

  constructor(private readonly addresses: KeptAddresses) {}

  // The address of a connection with failures on record.
  addressOf(pid: number): string | undefined {
    return this.connections.get(pid)?.src;
  }

  // When `event`, a failure of connection (pid, src), is an attempt to count: the
  // connection's own copy of src (see own-copy.ts), which a counter may keep.
  countAttempt(event: SshAuth, pid: number, src: string): string | undefined {
    let connection = this.connections.get(pid);
    if (connection === undefined || connection.src !== src) {
      connection = { src: this.addresses.keep(src), counted: 0, announced: false };
      this.remember(pid, connection);
    }
    if (SUMMING_UP.has(event.kind)) {
      if (connection.counted > 0) return undefined;
    } else if (ANNOUNCING.has(event.kind)) {
      if (connection.announced) return undefined;
      connection.announced = true;
    } else if (connection.announced) {
      connection.announced = false;
      return undefined;
    }
    connection.counted++;
    return connection.src;
  }

  // A failure whose line names no address waits for its pid's next line that does.
  hold(pid: number, time: number): void {
    this.held.set(pid, { at: time });
    while (this.held.size > MAX_ATTEMPT_CONNECTIONS) this.held.delete(this.held.oldestKey() as number);
  }

  // A line of `pid` names `src`: when a failure held for that pid now counts, as the
  // attempt that the connection's next "Failed ..." line repeats, the connection's own copy
  // of src.
  attribute(pid: number, src: string, time: number): string | undefined {
    // Asked for every line that names an address; mostly nothing is held.
    if (this.held.size === 0) return undefined;
    const at = this.held.get(pid)?.at;
    if (at === undefined) return undefined;
    this.held.delete(pid);
    if (time - at > HELD_FOR_MS || time < at) return undefined;
    const connection = { src: this.addresses.keep(src), counted: 1, announced: true };
    this.remember(pid, connection);
    return connection.src;
  }

  // The connections and held failures `old` followed (a reload).
  carryOver(old: FailedAttempts): void {
    for (const [pid, connection] of old.connections) this.connections.set(pid, { ...connection });
    for (const [pid, { at }] of old.held) this.held.set(pid, { at });
  }

  // The connection ended. (Nothing is held for it: a failure is held only while its pid has
  // no address, and the first line that names one takes it.)
  end(pid: number): void {
    this.connections.delete(pid);
  }

  private remember(pid: number, connection: Connection): void {
    this.connections.set(pid, connection);
    while (this.connections.size > MAX_ATTEMPT_CONNECTIONS) this.connections.delete(this.connections.oldestKey() as number);
  }
}
