import type { Door, Options } from '../config/types.js';
import type { CloseReason, Decision } from '../engine/decisions.js';
import { destinationFits, flagsFit, knockKey, stepKey } from '../engine/door-index.js';
import { createDoorKind } from '../doors/create-door-kind.js';
import type { Knock, SshAuth } from '../filters/events.js';
import { BanStore, type SavedBan, type SavedOffenses } from './ban-store.js';
import { FailureCounter } from './failure-counter.js';
import { GrantTable, type Grant } from './grant-table.js';
import { SshSessions, type SavedLogout, type SavedSession } from './ssh-sessions.js';

export type AccessOptions = Pick<Options, 'whitelist' | 'maxRetry' | 'findTime' | 'banTime' | 'banTimeMax' | 'logoutGrace'>;

export interface AccessState {
  offenses: SavedOffenses[];
  sessions: SavedSession[];
  logouts: SavedLogout[];
}

// The answer when time moves on with nothing due, shared.
const NOTHING: readonly Decision[] = Object.freeze([]);

// Who may come in: grants, sshd sessions, bans, and the policy between them: a completed
// door opens (or extends) its grant, or closes the grant of the door it closes; a ban
// revokes the address's grants; an address's last logout closes, after logout_grace, only
// its close_on_logout grants knocked before it; a granted address's knock out of sequence on a
// close_on_wrong_knock door's port closes its grant there. Every method returns the
// decisions it made, in order.
// A knock with one of these decisions was a step of some door's attempt, or one the engine
// did not count as a knock at all. A 'flags' decision is not among them: it speaks of the
// door it names only, and a knock whose flags do not fit the close_on_wrong_knock door
// itself is skipped below.
const IGNORED_KNOCK = new Set<Decision['type']>(['step', 'retransmit', 'refused']);

export class Access {
  private readonly grantTable = new GrantTable();
  private readonly banStore: BanStore;
  private readonly failures: FailureCounter;
  private readonly sessions: SshSessions;
  private readonly doors: ReadonlyMap<string, Door>;
  // When a grant was last knocked while some address waited for its logout_grace: a logout
  // closes only the grants knocked before that session ended (grant.opened for the others).
  private readonly knockedDuringGrace = new WeakMap<Grant, number>();
  // close_on_wrong_knock doors with the key (door-index.ts) of every step their kind may ever expect.
  private readonly wrongKnockPorts: readonly { door: Door; ports: ReadonlySet<number> }[];

  constructor(doors: readonly Door[], options: AccessOptions) {
    this.doors = new Map(doors.map((door) => [door.name, door]));
    this.wrongKnockPorts = doors.filter((door) => door.closeOnWrongKnock)
      .map((door) => ({ door, ports: new Set(createDoorKind(door.knock).steps().map(stepKey)) }));
    this.banStore = new BanStore(options.whitelist);
    this.failures = new FailureCounter(this.banStore, options);
    this.sessions = new SshSessions(options.logoutGrace);
  }

  // Live grants, oldest first.
  grants(): Grant[] {
    return this.grantTable.list();
  }

  grant(src: string, door: string): Grant | undefined {
    return this.grantTable.find(src, door);
  }

  // `src` completed `doorName` at `time`.
  completed(src: string, doorName: string, time: number): Decision[] {
    const door = this.doors.get(doorName);
    if (door === undefined) return [];
    if (door.closes !== undefined) return this.grantTable.close(src, door.closes, time, { door: door.name });
    const decisions = this.grantTable.open(src, door, time);
    if (this.sessions.logoutsPending) this.knockedDuringGrace.set(this.grantTable.find(src, door.name) as Grant, time);
    return decisions;
  }

  // The engine decided `knock` as `decisions` (the completion among them already handed to
  // completed()). A knock on a port of a close_on_wrong_knock door the source holds a grant
  // of is out of sequence when the engine took it as no step of any door: it broke an
  // attempt, or fitted none (a granted address with nothing in progress knocking a later
  // step). A retransmission, a knock whose TCP flags do not fit the door and a refused knock
  // count for nothing, as they do for the engine; flags that only another door refuses do not
  // make the knock fit this one.
  knocked(knock: Knock, decisions: readonly Decision[]): readonly Decision[] {
    if (this.wrongKnockPorts.length === 0) return NOTHING;
    if (decisions.some((decision) => IGNORED_KNOCK.has(decision.type))) return NOTHING;
    // An ICMP step is an echo request of its length: any other ICMP packet has a key no door has.
    const key = knockKey(knock);
    let closed: Decision[] | undefined;
    for (const { door, ports } of this.wrongKnockPorts) {
      if (!ports.has(key) || !destinationFits(door, knock) || !flagsFit(door.tcpflags, knock)) continue;
      // No decision when the address holds no grant of the door.
      const closing = this.close(knock.src, door.name, knock.time, 'wrong-knock');
      if (closing.length > 0) (closed ??= []).push(...closing);
    }
    return closed ?? NOTHING;
  }

  // Ends a grant early; `by` says why ('logout', 'revoked', 'admin', ...).
  close(src: string, door: string, time: number, by: CloseReason): Decision[] {
    return this.grantTable.close(src, door, time, by);
  }

  // Drops a grant without a decision: it is already out of the firewall (stop, rollback).
  forget(src: string, door: string, time: number): void {
    this.grantTable.close(src, door, time, 'forget');
  }

  handleSsh(event: SshAuth): readonly Decision[] {
    const outcome = this.sessions.handle(event);
    // Most sshd lines decide nothing: no array is made for them.
    let decisions: Decision[] | undefined;
    if (outcome !== undefined) {
      if (outcome.decisions.length > 0) decisions = [...outcome.decisions];
      if (outcome.failed) {
        for (const decision of this.failures.count(outcome.src, event.time)) {
          (decisions ??= []).push(decision);
          // Failed logins after the knock: the address loses what it opened.
          if (decision.type === 'banned') for (const grant of this.grantTable.forSource(decision.src)) decisions.push(...this.close(decision.src, grant.door, decision.time, 'revoked'));
        }
      }
    }
    if (this.sessions.logoutsPending) {
      const due = this.closeDueLogouts(event.time);
      if (due.length > 0) (decisions ??= []).push(...due);
    }
    return decisions ?? NOTHING;
  }

  // Moves time on: grants past their expiry end, logouts past logout_grace close grants.
  advanceTo(time: number): readonly Decision[] {
    // Runs for every event: nothing is built when nothing is due.
    if (time < this.grantTable.nextExpiry() && !this.sessions.logoutsPending) return NOTHING;
    const decisions = time >= this.grantTable.nextExpiry() ? this.grantTable.expire(time) : [];
    decisions.push(...this.closeDueLogouts(time));
    return decisions;
  }

  // Ends bans that ran out and forgets failures older than findtime.
  cleanup(now: number): Decision[] {
    this.failures.cleanup(now);
    return this.banStore.expire(now);
  }

  bannedUntil(src: string, now: number): number | undefined {
    return this.banStore.bannedUntil(src, now);
  }

  bans(): SavedBan[] {
    return this.banStore.saved();
  }

  // Ends a ban before its time (an admin's unban); no decision when there was none.
  unban(src: string, time: number): Decision[] {
    return this.banStore.lift(src) ? [{ type: 'unbanned', time, src }] : [];
  }

  // A reload's Access takes over what `old` learned from sshd: who is logged in (and whose
  // logout_grace runs), the failures toward a ban, and every address's count of bans. Copied:
  // a reload that fails goes on with `old`.
  carryOver(old: Access): void {
    this.sessions.carryOver(old.sessions);
    this.failures.carryOver(old.failures);
    this.banStore.carryOffenses(old.banStore);
  }

  restoreGrant(grant: Grant): void {
    this.grantTable.restore(grant);
  }

  restoreBan(ban: SavedBan): void {
    this.banStore.restore(ban);
  }

  // What the state file keeps besides grants and bans: the counts of bans of addresses not
  // banned now, the sshd connections logged in (oldest first) and the logouts waiting for
  // logout_grace. A logout whose address has knocked a grant since is left out: a restart
  // forgets that knock, and would close the grant it kept open.
  saved(): AccessState {
    return { offenses: this.banStore.savedOffenses(), sessions: this.sessions.saved(), logouts: this.logoutsToSave() };
  }

  // The same from before a restart (validated: validate-state.ts), after the grants and bans;
  // the logouts after the sessions. A list missing from an older state file is empty.
  restoreSaved(state: Partial<AccessState>): void {
    this.banStore.restoreOffenses(state.offenses ?? []);
    this.sessions.restore(state.sessions ?? []);
    this.sessions.restoreLogouts(state.logouts ?? []);
  }

  // A ban that ended while the daemon was down: its count still doubles the next one.
  restoreEndedBan(ban: SavedBan): void {
    this.banStore.restoreOffenses([ban]);
  }

  private logoutsToSave(): SavedLogout[] {
    const logouts = this.sessions.savedLogouts();
    if (logouts.length === 0) return logouts;
    const ended = new Map(logouts.map((logout) => [logout.src, logout.ended]));
    const knocked = new Set<string>();
    for (const grant of this.grantTable.list()) {
      const at = this.knockedDuringGrace.get(grant);
      if (at !== undefined && at > (ended.get(grant.src) ?? Infinity)) knocked.add(grant.src);
    }
    return knocked.size === 0 ? logouts : logouts.filter((logout) => !knocked.has(logout.src));
  }

  private closeDueLogouts(time: number): readonly Decision[] {
    const due = this.sessions.dueLogouts(time);
    if (due.length === 0) return NOTHING;
    const decisions: Decision[] = [];
    for (const { src, ended } of due) {
      for (const grant of this.grantTable.forSource(src)) {
        // A knock after the session ended opened the door for one to come.
        if ((this.knockedDuringGrace.get(grant) ?? grant.opened) > ended) continue;
        if (this.doors.get(grant.door)?.closeOnLogout === true) decisions.push(...this.close(src, grant.door, time, 'logout'));
      }
    }
    return decisions;
  }
}
