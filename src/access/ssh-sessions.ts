import type { Decision } from '../engine/decisions.js';
import type { SshAuth } from '../filters/events.js';
import { ownCopy } from '../engine/own-copy.js';

interface Connection {
  src: string;
  loggedIn: boolean;
  // "Invalid user" was counted: the first "Failed ... for invalid user" of this pid is the
  // same attempt and is not counted again.
  invalidCounted: boolean;
}

// What one sshd line meant: the decisions it makes, and whether it is a failed login of
// `src` to count.
export interface SshOutcome {
  src: string;
  decisions: Decision[];
  failed: boolean;
}

export const MAX_CONNECTIONS = 20_000;

// Follows sshd connections by pid: who is logged in from where, and when an address's last
// session ends (plus logout_grace). Deterministic: time comes from the events. Only a
// connection that a later line needs is remembered: a login (for its logout) and an "Invalid
// user" (for its first "Failed ... invalid user"); a plain failed login needs nothing later.
export class SshSessions {
  private readonly connections = new Map<number, Connection>();
  private readonly sessions = new Map<string, Set<number>>();
  private readonly pendingLogouts = new Map<string, number>();

  constructor(private readonly logoutGrace: number) {}

  // undefined for a line that names no address and no known connection.
  handle(event: SshAuth): SshOutcome | undefined {
    const connection = this.connections.get(event.pid);
    // What is kept holds a copy of the address (see own-copy.ts), made once per connection.
    const src = event.src === undefined || event.src === connection?.src ? connection?.src : ownCopy(event.src);
    if (src === undefined) return undefined;
    switch (event.kind) {
      case 'accepted': {
        this.remember(event.pid, { src, loggedIn: true, invalidCounted: false });
        const pids = this.sessions.get(src) ?? new Set<number>();
        pids.add(event.pid);
        this.sessions.set(src, pids);
        this.pendingLogouts.delete(src);
        return { src, failed: false, decisions: [{ type: 'login', time: event.time, src, user: event.user ?? '', pid: event.pid }] };
      }
      case 'session-closed':
      case 'disconnected':
        return { src, failed: false, decisions: this.endConnection(event.pid, connection, event.time) };
      case 'invalid-user':
        this.remember(event.pid, { src, loggedIn: false, invalidCounted: true });
        return { src, failed: true, decisions: [] };
      case 'failed':
        if (event.invalidUser && connection?.invalidCounted) {
          connection.invalidCounted = false;
          return { src, failed: false, decisions: [] };
        }
        return { src, failed: true, decisions: [] };
      case 'session-opened':
        return { src, failed: false, decisions: [] };
    }
  }

  // Whether any address waits for its logout_grace to end.
  get logoutsPending(): boolean {
    return this.pendingLogouts.size > 0;
  }

  // Addresses whose last session ended at least logout_grace ago (each reported once).
  dueLogouts(now: number): string[] {
    const due: string[] = [];
    for (const [src, at] of this.pendingLogouts) {
      if (at <= now) {
        due.push(src);
        this.pendingLogouts.delete(src);
      }
    }
    return due;
  }

  private remember(pid: number, connection: Connection): void {
    this.connections.delete(pid);
    this.connections.set(pid, connection);
    // Past the cap the oldest connection is forgotten: that is no logout, so its grant stays
    // until it expires.
    for (const [oldPid, old] of this.connections) {
      if (this.connections.size <= MAX_CONNECTIONS) break;
      this.connections.delete(oldPid);
      this.sessions.get(old.src)?.delete(oldPid);
    }
  }

  private endConnection(pid: number, connection: Connection | undefined, time: number): Decision[] {
    if (connection === undefined) return [];
    this.connections.delete(pid);
    if (!connection.loggedIn) return [];
    // A logged-in connection's pid is always in its address's set (the fallback is for the types).
    const pids = this.sessions.get(connection.src) ?? new Set<number>();
    pids.delete(pid);
    if (pids.size > 0) return [];
    this.sessions.delete(connection.src);
    const closeAt = time + this.logoutGrace;
    this.pendingLogouts.set(connection.src, closeAt);
    return [{ type: 'logout', time, src: connection.src, pid, closeAt }];
  }
}
