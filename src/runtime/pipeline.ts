import type { Config } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import { AuthTracker } from '../engine/auth-tracker.js';
import { Engine } from '../engine/engine.js';
import type { KnockEvent } from '../filters/events.js';
import type { LineParser } from '../filters/parse-line.js';
import { GrantTable } from '../grants/grant-table.js';
import type { Clock } from './clock.js';
import { checkEventTime, type EventTimeCheck } from './event-time.js';

export interface DoorCounters {
  started: number;
  completed: number;
  broken: number;
}

export interface PipelineStats {
  lines: number;
  matched: number;
  missed: number;
  ignored: number;
  invalid: number;
  oversize: number;
  knocks: number;
  otherPrefix: number;
  sshEvents: number;
  // LOG lines for a port no door or trap uses: they cannot change a decision, so they are
  // counted and not parsed further (knockd's capture filter never shows it such packets).
  otherPort: number;
  // Knocks older than `ignoreBefore` (a restart resuming an old log position).
  stale: number;
  doors: Map<string, DoorCounters>;
  granted: Set<string>;
  invalidReasons: Map<string, number>;
  // Events not acted on because their time was too far ahead of or behind the host clock.
  outOfRange: { future: number; past: number };
}

export interface PipelineOptions {
  // The live daemon's clock, which the time of every line is checked against; replay has
  // none and takes the log's time as it is.
  hostClock?: Clock | undefined;
}

export type DecisionSink = (decision: Decision) => void;

const CLEANUP_EVERY = 1000;

// lines → events → engine → grants, with time taken only from the events. Live mode and
// replay share this; they differ in where lines come from and what the sink does.
export class Pipeline {
  readonly engine: Engine;
  readonly grants: GrantTable;
  readonly auth: AuthTracker;
  readonly stats: PipelineStats;
  private nextCleanup = -Infinity;
  private lastTime = -Infinity;
  private readonly relevant: ReadonlySet<number> | undefined;
  private readonly closesOnLogout: ReadonlySet<string>;
  // Knocks before this time are never acted on (set after a restart).
  ignoreBefore = -Infinity;

  constructor(
    private readonly config: Config,
    private readonly sink: DecisionSink,
    private readonly options: PipelineOptions = {},
  ) {
    this.engine = new Engine(config.doors, config.options);
    this.grants = new GrantTable(config.doors);
    this.auth = new AuthTracker(config.options);
    this.relevant = this.engine.relevantKeys();
    this.closesOnLogout = new Set(config.doors.filter((door) => door.closeOnLogout).map((door) => door.name));
    this.stats = {
      lines: 0, matched: 0, missed: 0, ignored: 0, invalid: 0, oversize: 0, knocks: 0, otherPrefix: 0, sshEvents: 0, otherPort: 0, stale: 0,
      doors: new Map(config.doors.map((door) => [door.name, { started: 0, completed: 0, broken: 0 }])),
      granted: new Set(),
      invalidReasons: new Map(),
      outOfRange: { future: 0, past: 0 },
    };
  }

  get now(): number {
    return this.lastTime;
  }

  handleLines(lines: readonly string[], parse: LineParser): void {
    const stats = this.stats;
    const relevant = parse.knocksOnly ? this.relevant : undefined;
    for (let i = 0; i < lines.length; i++) {
      stats.lines++;
      const text = lines[i] as string;
      if (relevant !== undefined && !mayMatter(text, relevant)) {
        stats.otherPort++;
        continue;
      }
      const outcome = parse(text);
      switch (outcome.status) {
        case 'event':
          stats.matched++;
          this.handleEvent(outcome.event);
          break;
        case 'missed':
          stats.missed++;
          break;
        case 'ignored':
          stats.ignored++;
          break;
        case 'invalid':
          stats.invalid++;
          countReason(stats.invalidReasons, outcome.reason);
          break;
      }
    }
    const last = lines.at(-1);
    const stamp = last === undefined ? undefined : parse.timeOf(last);
    // That line was counted already, as an event or not: out of range, it only moves nothing.
    if (stamp !== undefined && stamp > this.lastTime && this.checkTime(stamp) === 'ok') this.advanceTo(stamp);
  }

  handleEvent(event: KnockEvent): void {
    if (event.time < this.ignoreBefore) {
      this.stats.stale++;
      return;
    }
    const check = this.checkTime(event.time);
    if (check !== 'ok') {
      this.stats.outOfRange[check]++;
      return;
    }
    this.advanceTo(event.time);
    if (event.type === 'ssh') {
      this.stats.sshEvents++;
      for (const decision of this.auth.handle(event)) this.emit(decision);
      this.closeDueLogouts(event.time);
      return;
    }
    const prefix = this.config.options.logPrefix;
    if (prefix !== undefined && event.prefix !== prefix) {
      this.stats.otherPrefix++;
      return;
    }
    this.stats.knocks++;
    for (const decision of this.engine.handleKnock(event)) this.emit(decision);
  }

  // Moves the pipeline's clock: grants past their expiry end, stale attempts are dropped.
  advanceTo(time: number): void {
    if (time > this.lastTime) this.lastTime = time;
    if (time >= this.grants.nextExpiry()) {
      for (const decision of this.grants.expire(time)) this.emit(decision);
    }
    this.closeDueLogouts(time);
    if (time >= this.nextCleanup) {
      this.nextCleanup = time + CLEANUP_EVERY;
      for (const decision of this.engine.cleanup(time)) this.emit(decision);
      for (const decision of this.auth.cleanup(time)) this.emit(decision);
    }
  }

  private checkTime(time: number): EventTimeCheck {
    const host = this.options.hostClock;
    return host === undefined ? 'ok' : checkEventTime(time, host.now());
  }

  private closeDueLogouts(time: number): void {
    for (const src of this.auth.dueLogouts(time)) {
      for (const grant of this.grants.forSource(src)) {
        if (this.closesOnLogout.has(grant.door)) this.closeGrant(src, grant.door, time, 'logout');
      }
    }
  }

  // Closes a grant from outside the knock path (logout, revocation).
  closeGrant(src: string, door: string, time: number, by: string): void {
    for (const decision of this.grants.close(src, door, time, by)) this.emit(decision);
  }

  private emit(decision: Decision): void {
    const counters = 'door' in decision ? this.stats.doors.get(decision.door) : undefined;
    switch (decision.type) {
      case 'step':
        if (decision.step === 1 && counters) counters.started++;
        break;
      case 'broken':
        if (counters) counters.broken++;
        break;
      case 'completed':
        if (counters) counters.completed++;
        this.sink(decision);
        for (const result of this.grants.complete(decision.src, decision.door, decision.time)) this.emit(result);
        return;
      case 'open':
        this.stats.granted.add(decision.src);
        break;
      case 'banned':
        // Failed logins after the knock: the address loses what it opened and is refused.
        this.sink(decision);
        this.engine.ban(decision.src, decision.until);
        for (const grant of this.grants.forSource(decision.src)) this.closeGrant(decision.src, grant.door, decision.time, 'revoked');
        return;
      case 'unbanned':
        this.engine.unban(decision.src);
        break;
      default:
        break;
    }
    this.sink(decision);
  }
}

// False only for a line with a destination port that no door uses, for TCP and UDP alike.
function mayMatter(line: string, relevant: ReadonlySet<number>): boolean {
  const at = line.indexOf(' DPT=');
  if (at === -1) return true;
  let port = 0;
  let i = at + 5;
  for (let digits = 0; digits < 6; digits++, i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) break;
    port = port * 10 + (c - 48);
  }
  if (i === at + 5 || port > 65535) return true;
  return relevant.has(port) || relevant.has(65536 + port);
}

// Invalid lines grouped by what was wrong, without the (attacker-chosen) value itself.
function countReason(reasons: Map<string, number>, reason: string): void {
  const key = reason.replace(/".*"/, '"…"');
  reasons.set(key, (reasons.get(key) ?? 0) + 1);
}
