import type { SshAuth } from '../filters/events.js';
import { networkContains, type Network } from '../net/address.js';

export interface AuthOptions {
  maxRetry: number;
  findTime: number;
  banTime: number;
  banTimeMax: number;
  logoutGrace: number;
  whitelist: readonly Network[];
}

export type AuthDecision =
  | { type: 'login'; time: number; src: string; user: string; pid: number }
  | { type: 'logout'; time: number; src: string; pid: number; closeAt: number }
  | { type: 'failure'; time: number; src: string; count: number }
  | { type: 'banned'; time: number; src: string; until: number; failures: number; offense: number }
  | { type: 'unbanned'; time: number; src: string };

interface Connection {
  src: string;
  loggedIn: boolean;
  // "Invalid user" was counted: the first "Failed ... for invalid user" of this pid is the
  // same attempt and is not counted again.
  invalidCounted: boolean;
}

export interface SavedBan {
  src: string;
  until: number;
  offenses: number;
}

export const MAX_CONNECTIONS = 20_000;

// Follows sshd connections by pid: who is logged in from where, when an address's last
// session ends, and how often an address failed. Deterministic: time comes from the events.
export class AuthTracker {
  private readonly connections = new Map<number, Connection>();
  private readonly sessions = new Map<string, Set<number>>();
  private readonly failures = new Map<string, number[]>();
  private readonly bans = new Map<string, number>();
  private readonly offenses = new Map<string, number>();
  private readonly pendingLogouts = new Map<string, number>();

  constructor(private readonly options: AuthOptions) {}

  handle(event: SshAuth): AuthDecision[] {
    const connection = this.connections.get(event.pid);
    const src = event.src ?? connection?.src;
    if (src === undefined) return [];
    switch (event.kind) {
      case 'accepted': {
        this.remember(event.pid, { src, loggedIn: true, invalidCounted: false });
        const pids = this.sessions.get(src) ?? new Set<number>();
        pids.add(event.pid);
        this.sessions.set(src, pids);
        this.pendingLogouts.delete(src);
        return [{ type: 'login', time: event.time, src, user: event.user ?? '', pid: event.pid }];
      }
      case 'session-closed':
      case 'disconnected':
        return this.endConnection(event.pid, connection, event.time);
      case 'invalid-user':
        this.remember(event.pid, { src, loggedIn: false, invalidCounted: true });
        return this.countFailure(src, event.time);
      case 'failed':
        if (event.invalidUser && connection?.invalidCounted) {
          connection.invalidCounted = false;
          return [];
        }
        if (connection === undefined) this.remember(event.pid, { src, loggedIn: false, invalidCounted: false });
        return this.countFailure(src, event.time);
      case 'session-opened':
        return [];
    }
  }

  // Addresses whose last session ended at least logout_grace ago.
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

  bannedUntil(src: string, now: number): number | undefined {
    const until = this.bans.get(src);
    return until !== undefined && until > now ? until : undefined;
  }

  // Ends bans that ran out and forgets failures older than findtime.
  cleanup(now: number): AuthDecision[] {
    const decisions: AuthDecision[] = [];
    for (const [src, until] of this.bans) {
      if (until <= now) {
        this.bans.delete(src);
        decisions.push({ type: 'unbanned', time: until, src });
      }
    }
    for (const [src, times] of this.failures) {
      const recent = times.filter((time) => now - time <= this.options.findTime);
      if (recent.length === 0) this.failures.delete(src);
      else this.failures.set(src, recent);
    }
    return decisions;
  }

  // Ends a ban now; false when the address was not banned.
  lift(src: string): boolean {
    return this.bans.delete(src);
  }

  savedBans(): SavedBan[] {
    return [...this.bans].map(([src, until]) => ({ src, until, offenses: this.offenses.get(src) ?? 1 }));
  }

  // A whitelisted address is never banned, whatever a state file or an older config says.
  restoreBan(ban: SavedBan): void {
    if (this.isWhitelisted(ban.src)) return;
    this.bans.set(ban.src, ban.until);
    this.offenses.set(ban.src, ban.offenses);
  }

  private remember(pid: number, connection: Connection): void {
    this.connections.delete(pid);
    this.connections.set(pid, connection);
    // Past the cap the oldest connection is forgotten: that is no logout, so its grant stays
    // until it expires.
    while (this.connections.size > MAX_CONNECTIONS) {
      const oldest = this.connections.entries().next().value;
      if (oldest === undefined) break;
      const [pid, old] = oldest;
      this.connections.delete(pid);
      this.sessions.get(old.src)?.delete(pid);
    }
  }

  private endConnection(pid: number, connection: Connection | undefined, time: number): AuthDecision[] {
    if (connection === undefined) return [];
    this.connections.delete(pid);
    if (!connection.loggedIn) return [];
    const pids = this.sessions.get(connection.src);
    pids?.delete(pid);
    if (pids !== undefined && pids.size > 0) return [];
    this.sessions.delete(connection.src);
    const closeAt = time + this.options.logoutGrace;
    this.pendingLogouts.set(connection.src, closeAt);
    return [{ type: 'logout', time, src: connection.src, pid, closeAt }];
  }

  private isWhitelisted(src: string): boolean {
    return this.options.whitelist.some((network) => networkContains(network, src));
  }

  private countFailure(src: string, time: number): AuthDecision[] {
    if (this.isWhitelisted(src)) return [];
    if (this.bannedUntil(src, time) !== undefined) return [];
    const times = (this.failures.get(src) ?? []).filter((at) => time - at <= this.options.findTime);
    times.push(time);
    this.failures.set(src, times);
    const decisions: AuthDecision[] = [{ type: 'failure', time, src, count: times.length }];
    if (times.length >= this.options.maxRetry) {
      const offense = (this.offenses.get(src) ?? 0) + 1;
      this.offenses.set(src, offense);
      // A repeat offender's ban doubles, as with fail2ban's bantime.increment.
      const duration = Math.min(this.options.banTime * 2 ** (offense - 1), this.options.banTimeMax);
      const until = time + duration;
      this.bans.set(src, until);
      this.failures.delete(src);
      decisions.push({ type: 'banned', time, src, until, failures: times.length, offense });
    }
    return decisions;
  }
}
