import type { Decision } from '../engine/decisions.js';
import type { SshAuth } from '../filters/events.js';
import { FailedAttempts } from './failure-counter-attempts.js';
import { KeptAddresses } from './kept-addresses.js';

// What one sshd line meant: the decisions it makes, and whether it is a failed login of
// `src` to count (then `src` is an own copy, see own-copy.ts: the failure counter keeps it).
export interface SshOutcome {
  src: string;
  decisions: readonly Decision[];
  failed: boolean;
}

const NO_DECISIONS: readonly Decision[] = Object.freeze([]);

// An address whose last session ended at `ended`, logout_grace ago or more.
export interface DueLogout {
  src: string;
  ended: number;
}

export const MAX_CONNECTIONS = 20_000;

// Follows sshd connections by pid: who is logged in from where, and when an address's last
// session ends (plus logout_grace), and which failure lines are attempts to count
// (failure-counter-attempts.ts). Deterministic: time comes from the events. Only a login is
// remembered here (for its logout).
export class SshSessions {
  // Logged-in connections: pid to address.
  private readonly logins = new Map<number, string>();
  private readonly addresses = new KeptAddresses();
  private readonly attempts = new FailedAttempts(this.addresses);
  private readonly sessions = new Map<string, Set<number>>();
  // Addresses whose last session ended, with that time.
  private readonly pendingLogouts = new Map<string, number>();

  constructor(private readonly logoutGrace: number) {}

  // undefined for a line that names no address and no known connection.
  handle(event: SshAuth): SshOutcome | undefined {
    const pid = event.pid;
    // A line without a pid (a failure that names its address) is tied to no connection.
    if (pid === undefined) return event.src === undefined || event.class !== 'failure' ? undefined : { src: this.addresses.keep(event.src), failed: true, decisions: NO_DECISIONS };
    // The connection's login matters to logins and logouts, and to a line that names no
    // address (a failure or noise line that names one is read without this lookup).
    const login = event.src === undefined || event.class === 'login' || event.class === 'logout' ? this.logins.get(pid) : undefined;
    // What is kept holds a copy of the address (kept-addresses.ts), made once per address.
    const src = event.src === undefined ? login ?? this.attempts.addressOf(pid) : event.src === login ? login : event.src;
    if (src === undefined) {
      if (event.class === 'failure') this.attempts.hold(pid, event.time);
      return undefined;
    }
    // The own copy of src when a failure held for the pid counts now.
    const held = event.src === undefined ? undefined : this.attempts.attribute(pid, src, event.time);
    const failed = held !== undefined;
    switch (event.class) {
      case 'login': {
        if (event.kind !== 'accepted') return { src: held ?? src, failed, decisions: NO_DECISIONS };
        // The pid logged in from another address before: that connection ended without its
        // lines (lost, or the pid came back), and ends now rather than hold its address open.
        const ended = login !== undefined && login !== src ? this.endConnection(pid, login, event.time) : [];
        const own = src === login ? src : held ?? this.addresses.keep(src);
        this.remember(pid, own);
        const pids = this.sessions.get(own) ?? new Set<number>();
        pids.add(pid);
        this.sessions.set(own, pids);
        this.pendingLogouts.delete(own);
        ended.push({ type: 'login', time: event.time, src: own, user: event.user ?? '', pid });
        return { src: own, failed, decisions: ended };
      }
      case 'logout':
        this.attempts.end(pid);
        return { src: held ?? src, failed, decisions: this.endConnection(pid, login, event.time) };
      case 'failure': {
        const counted = this.attempts.countAttempt(event, pid, src) ?? held;
        return { src: counted ?? src, failed: counted !== undefined, decisions: NO_DECISIONS };
      }
      case 'noise':
        return { src: held ?? src, failed, decisions: NO_DECISIONS };
    }
  }

  // What `old` followed (a reload): logins, sessions, logouts waiting for logout_grace (this
  // one's), and the failed connections.
  carryOver(old: SshSessions): void {
    for (const [pid, src] of old.logins) this.logins.set(pid, src);
    for (const [src, pids] of old.sessions) this.sessions.set(src, new Set(pids));
    for (const [src, at] of old.pendingLogouts) this.pendingLogouts.set(src, at);
    this.attempts.carryOver(old.attempts);
  }

  // Addresses with a connection logged in.
  get loggedIn(): number {
    return this.sessions.size;
  }

  // Whether any address waits for its logout_grace to end.
  get logoutsPending(): boolean {
    return this.pendingLogouts.size > 0;
  }

  // Addresses whose last session ended at least logout_grace ago (each reported once).
  dueLogouts(now: number): DueLogout[] {
    const due: DueLogout[] = [];
    for (const [src, ended] of this.pendingLogouts) {
      if (ended + this.logoutGrace <= now) {
        due.push({ src, ended });
        this.pendingLogouts.delete(src);
      }
    }
    return due;
  }

  private remember(pid: number, src: string): void {
    this.logins.delete(pid);
    this.logins.set(pid, src);
    // Past the cap the oldest connection is forgotten: that is no logout, so its grant stays
    // until it expires. (The size is asked first: finding a map's oldest entry reads past
    // the holes its deletes leave.)
    if (this.logins.size <= MAX_CONNECTIONS) return;
    for (const [oldPid, old] of this.logins) {
      if (this.logins.size <= MAX_CONNECTIONS) break;
      this.logins.delete(oldPid);
      const pids = this.sessions.get(old);
      pids?.delete(oldPid);
      if (pids?.size === 0) this.sessions.delete(old);
    }
  }

  // `src`: the address the connection logged in from, undefined when it did not.
  private endConnection(pid: number, src: string | undefined, time: number): Decision[] {
    if (src === undefined) return [];
    this.logins.delete(pid);
    // A logged-in connection's pid is always in its address's set (the fallback is for the types).
    const pids = this.sessions.get(src) ?? new Set<number>();
    pids.delete(pid);
    if (pids.size > 0) return [];
    this.sessions.delete(src);
    this.pendingLogouts.set(src, time);
    return [{ type: 'logout', time, src, pid, closeAt: time + this.logoutGrace }];
  }
}
