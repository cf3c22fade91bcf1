import type { Decision } from '../engine/decisions.js';
import { DueQueue } from '../engine/due-queue.js';
import type { SshAuth } from '../filters/events.js';
import { AgingMap } from './aging-map.js';
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
const NO_LOGOUTS: readonly SavedLogout[] = Object.freeze([]);

export const MAX_CONNECTIONS = 20_000;

// A logged-in connection as the state file keeps it (a restart between a login and its
// logout still ends the session): `port` is absent when its Accepted line named none.
export interface SavedSession {
  pid: number;
  src: string;
  port?: number;
  since: number;
}

// An address whose last session ended at `ended`: one still in its logout_grace, as the state
// file keeps it (a restart in the grace still closes its close_on_logout grants), or one whose
// grace has run out (dueLogouts).
export interface SavedLogout {
  src: string;
  ended: number;
}

interface Waiting {
  readonly src: string;
  readonly ended: number;
  readonly place: number;
}

// A logged-in connection: the pid that wrote its Accepted line (and, with PAM, its session
// lines), the address and client port it came from, and when.
interface Login {
  readonly pid: number;
  readonly src: string;
  readonly port: number | undefined;
  readonly since: number;
}

// A login's key among its address's sessions: the client port, or for a login whose line
// named none, minus its pid (ports are 1 and more, so the two never meet).
function sessionKey(login: Login): number {
  return login.port ?? -login.pid;
}

// Follows sshd connections by pid: who is logged in from where, and when an address's last
// session ends (plus logout_grace), and which failure lines are attempts to count
// (failure-counter-attempts.ts). Deterministic: time comes from the events. Only a login is
// remembered here (for its logout). With privilege separation the logout lines ("Received
// disconnect", "Disconnected from user U ADDR port N") come from the post-auth child, whose
// pid is not the login's: a logout line of an unknown pid ends the session its address and
// client port name, never one named by its address alone.
export class SshSessions {
  // Logged-in connections by pid, oldest first.
  private readonly logins = new AgingMap<number, Login>();
  private readonly addresses = new KeptAddresses();
  private readonly attempts = new FailedAttempts(this.addresses);
  // The same connections per address, by sessionKey.
  private readonly sessions = new Map<string, Map<number, Login>>();
  // Addresses whose last session ended, with that time, and their place in this Map's order
  // (an address whose end moves on keeps its place, as a Map key does).
  private readonly pendingLogouts = new Map<string, Waiting>();
  // The same by when their grace ends, so a line reads only the logouts due, not all that
  // wait; one whose address logged in again or ended again since is passed over. Emptied
  // when nothing waits (every entry is passed over then): logouts are read only while some
  // wait, so a host whose users log in again within the grace would grow it for good.
  private graceEnds = new DueQueue<Waiting>();
  private waitingPlaces = 0;

  constructor(private readonly logoutGrace: number) {}

  // undefined for a line that names no address and no known connection.
  handle(event: SshAuth): SshOutcome | undefined {
    const pid = event.pid;
    // A line without a pid (a failure that names its address) is tied to no connection.
    if (pid === undefined) return event.src === undefined || event.class !== 'failure' ? undefined : { src: this.addresses.keep(event.src), failed: true, decisions: NO_DECISIONS };
    let connection = this.logins.size === 0 ? undefined : this.logins.get(pid);
    // A line of a logged-in pid that names another address is another connection's: the
    // session's closing lines were lost and its pid came back. It ends now rather than hold
    // its address open, and the lines of the pid that name no address are the new
    // connection's, never charged to the old one.
    let stale: Decision[] | undefined;
    if (connection !== undefined && event.src !== undefined && event.src !== connection.src) {
      stale = this.endConnection(connection, event.time);
      connection = undefined;
    }
    const login = connection?.src;
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
        if (event.kind !== 'accepted') return { src: held ?? src, failed, decisions: stale ?? NO_DECISIONS };
        const ended = stale ?? [];
        const own = src === login ? src : held ?? this.addresses.keep(src);
        this.remember({ pid, src: own, port: event.port, since: event.time });
        this.stopWaiting(own);
        ended.push({ type: 'login', time: event.time, src: own, user: event.user ?? '', pid });
        return { src: own, failed, decisions: ended };
      }
      case 'logout': {
        this.attempts.end(pid);
        // Not the login's pid: the post-auth child's line names the connection by its port.
        const ending = connection ?? (event.src === undefined || event.port === undefined ? undefined : this.sessions.get(event.src)?.get(event.port));
        const ended = ending === undefined ? [] : this.endConnection(ending, event.time);
        return { src: held ?? src, failed, decisions: stale === undefined ? ended : [...stale, ...ended] };
      }
      case 'failure': {
        const counted = this.attempts.countAttempt(event, pid, src) ?? held;
        return { src: counted ?? src, failed: counted !== undefined, decisions: stale ?? NO_DECISIONS };
      }
      case 'noise':
        return { src: held ?? src, failed, decisions: stale ?? NO_DECISIONS };
    }
  }

  // What `old` followed (a reload): logins, sessions, logouts waiting for logout_grace (this
  // one's), and the failed connections.
  carryOver(old: SshSessions): void {
    for (const login of old.logins.values()) this.remember(login);
    for (const [src, { ended }] of old.pendingLogouts) this.waitForGrace(src, ended);
    this.attempts.carryOver(old.attempts);
  }

  // The logged-in connections, oldest first.
  saved(): SavedSession[] {
    return [...this.logins.values()].map(({ pid, src, port, since }) => (port === undefined ? { pid, src, since } : { pid, src, port, since }));
  }

  // Connections logged in before a restart (validated: validate-state.ts), oldest first.
  restore(sessions: readonly SavedSession[]): void {
    for (const { pid, src, port, since } of sessions) this.remember({ pid, src: this.addresses.keep(src), port, since });
  }

  // The logouts waiting for logout_grace, at most MAX_CONNECTIONS, the latest last.
  savedLogouts(): SavedLogout[] {
    const saved: SavedLogout[] = [];
    for (const [src, { ended }] of this.pendingLogouts) saved.push({ src, ended });
    return saved.length <= MAX_CONNECTIONS ? saved : saved.slice(-MAX_CONNECTIONS);
  }

  // Logouts waiting before a restart (validated: validate-state.ts), the latest last, after
  // the sessions: an address logged in has none. The grace runs from `ended`, as before.
  restoreLogouts(logouts: readonly SavedLogout[]): void {
    for (const { src, ended } of logouts) {
      if (!this.sessions.has(src)) this.waitForGrace(this.addresses.keep(src), ended);
    }
  }

  // Addresses with a connection logged in.
  get loggedIn(): number {
    return this.sessions.size;
  }

  // Whether any address waits for its logout_grace to end.
  get logoutsPending(): boolean {
    return this.pendingLogouts.size > 0;
  }

  // Addresses whose last session ended at least logout_grace ago (each reported once), in
  // the order they started to wait.
  dueLogouts(now: number): readonly SavedLogout[] {
    // Read for every line while a logout waits: nothing is built until one may be due.
    if (this.graceEnds.nextTime > now) return NO_LOGOUTS;
    const due = this.graceEnds.takeDue(now).filter((waiting) => this.pendingLogouts.get(waiting.src) === waiting);
    if (due.length === 0) return NO_LOGOUTS;
    if (due.length > 1) due.sort((a, b) => a.place - b.place);
    for (const { src } of due) this.stopWaiting(src);
    return due.map(({ src, ended }) => ({ src, ended }));
  }

  private stopWaiting(src: string): void {
    if (this.pendingLogouts.delete(src) && this.pendingLogouts.size === 0 && this.graceEnds.size > 0) this.graceEnds = new DueQueue();
  }

  private waitForGrace(src: string, ended: number): void {
    const waiting = { src, ended, place: this.pendingLogouts.get(src)?.place ?? this.waitingPlaces++ };
    this.pendingLogouts.set(src, waiting);
    this.graceEnds.push(ended + this.logoutGrace, waiting);
  }

  // A login takes the place of what its pid, and its address's client port, held before:
  // either was a connection that ended without its lines, and the address keeps a session.
  private remember(login: Login): void {
    const before = this.logins.get(login.pid);
    if (before !== undefined) this.forget(before);
    let connections = this.sessions.get(login.src);
    if (connections === undefined) {
      connections = new Map();
      this.sessions.set(login.src, connections);
    }
    const replaced = connections.get(sessionKey(login));
    if (replaced !== undefined) this.logins.delete(replaced.pid);
    connections.set(sessionKey(login), login);
    this.logins.set(login.pid, login);
    // Past the cap the oldest connection is forgotten: that is no logout, so its grant stays
    // until it expires.
    while (this.logins.size > MAX_CONNECTIONS) this.forget(this.logins.get(this.logins.oldestKey() as number) as Login);
  }

  // Drops a connection without a logout; true when its address has no session left.
  private forget(login: Login): boolean {
    this.logins.delete(login.pid);
    const connections = this.sessions.get(login.src);
    if (connections === undefined) return false;
    if (connections.get(sessionKey(login)) === login) connections.delete(sessionKey(login));
    if (connections.size > 0) return false;
    this.sessions.delete(login.src);
    return true;
  }

  private endConnection(login: Login, time: number): Decision[] {
    if (!this.forget(login)) return [];
    this.waitForGrace(login.src, time);
    return [{ type: 'logout', time, src: login.src, pid: login.pid, closeAt: time + this.logoutGrace }];
  }
}
