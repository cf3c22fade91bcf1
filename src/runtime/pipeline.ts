import { Access, type AccessState } from '../access/access.js';
import type { SavedBan } from '../access/ban-store.js';
import type { Grant } from '../access/grant-table.js';
import type { Config } from '../config/types.js';
import { DoorSet } from '../doors/door-set.js';
import type { CloseReason, Decision } from '../engine/decisions.js';
import { ECHO_KEYS, UDP_KEYS } from '../engine/door-index.js';
import { Engine } from '../engine/engine.js';
import type { Knock, KnockEvent } from '../filters/events.js';
import type { LineParser } from '../filters/parse-line.js';
import { restoreInto, type RestoreResult } from './restore-state.js';
import type { SavedGrant } from './state-file.js';
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
  // LOG lines the filter reads as packets that cannot be knocks (other protocols, fragments).
  otherProtocol: number;
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
  // Sources dropped to stay under max_tracked or max_first_steps, and the attempts in
  // progress they had; grants opened and closed (any way), bans.
  evicted: number;
  evictedAttempts: number;
  opens: number;
  closes: number;
  bans: number;
  // Events not acted on because their time was too far ahead of or behind the host clock.
  outOfRange: { future: number; past: number };
}

export interface PipelineOptions {
  // The live daemon's clock, which the time of every line is checked against; replay has
  // none and takes the log's time as it is.
  hostClock?: Clock | undefined;
}

export interface PipelineSnapshot {
  // The time of the last event (-Infinity before the first).
  now: number;
  grants: Grant[];
  bans: SavedBan[];
  // Per door, the sources with an attempt in progress.
  attempts: { door: string; sources: string[] }[];
  tracked: number;
  stats: Pick<PipelineStats, 'lines' | 'knocks' | 'sshEvents' | 'invalid' | 'stale' | 'evicted' | 'evictedAttempts' | 'opens' | 'closes' | 'bans'>;
}

export type DecisionSink = (decision: Decision) => void;

const CLEANUP_EVERY = 1000;
// First-step entries the engine's cleanup handles before its decisions are handed on.
const CLEANUP_SLICE = 1024;

// lines → events → engine (knocks) → access (grants, sessions, bans), with time taken only
// from the events. Live mode and replay share this; they differ in where lines come from
// and what the sink does.
export class Pipeline {
  private readonly doors: DoorSet;
  private readonly engine: Engine;
  private readonly access: Access;
  readonly stats: PipelineStats;
  private nextCleanup = -Infinity;
  private lastTime = -Infinity;
  // Per destination port, 1 when some door or trap uses it (TCP or UDP); undefined when every
  // line must be parsed.
  private readonly ports: Uint8Array | undefined;
  // Knocks before this time are never acted on (set after a restart).
  ignoreBefore = -Infinity;

  constructor(
    private readonly config: Config,
    private readonly sink: DecisionSink,
    private readonly options: PipelineOptions = {},
  ) {
    this.doors = new DoorSet(config.doors);
    this.engine = new Engine(this.doors, config.options);
    this.access = new Access(config.doors, config.options);
    this.ports = portTable(this.engine.relevantKeys());
    this.stats = {
      lines: 0, matched: 0, missed: 0, ignored: 0, invalid: 0, otherProtocol: 0, oversize: 0, knocks: 0, otherPrefix: 0, sshEvents: 0, otherPort: 0, stale: 0, evicted: 0, evictedAttempts: 0, opens: 0, closes: 0, bans: 0,
      doors: new Map(config.doors.map((door) => [door.name, { started: 0, completed: 0, broken: 0 }])),
      granted: new Set(),
      invalidReasons: new Map(),
      outOfRange: { future: 0, past: 0 },
    };
  }

  get now(): number {
    return this.lastTime;
  }

  // Live grants, oldest first.
  grants(): Grant[] {
    return this.access.grants();
  }

  grant(src: string, door: string): Grant | undefined {
    return this.access.grant(src, door);
  }

  bans(): SavedBan[] {
    return this.access.bans();
  }

  bannedUntil(src: string, now: number): number | undefined {
    return this.access.bannedUntil(src, now);
  }

  // Ends a ban before its time (an admin's `knockwatch unban`); false when there was none.
  unban(src: string, time: number): boolean {
    const decisions = this.access.unban(src, time);
    for (const decision of decisions) this.emit(decision);
    return decisions.length > 0;
  }

  // One-time sequences used so far, per door (persisted: a used sequence never opens again).
  usedOneTime(): Record<string, number> {
    return this.doors.usedOneTime();
  }

  restoreOneTime(used: Record<string, number>): void {
    this.doors.restoreOneTime(used);
  }

  // Grants and bans known from before (a restart, or the config before a reload).
  restore(grants: readonly SavedGrant[], bans: readonly SavedBan[], now: number): RestoreResult {
    return restoreInto(this.config, grants, bans, now, {
      grant: (grant) => this.access.restoreGrant(grant),
      ban: (ban) => this.access.restoreBan(ban),
      ended: (ban) => this.access.restoreEndedBan(ban),
    });
  }

  // What the state file keeps of access besides grants and bans (Access.saved).
  accessState(): AccessState {
    return this.access.saved();
  }

  restoreAccessState(state: Partial<AccessState>): void {
    this.access.restoreSaved(state);
  }

  // What a reload carries over from the pipeline it replaces besides grants and bans: used
  // one-time sequences, knocks in progress for doors that did not change, what access learned
  // from sshd, the restart cut-off.
  carryOver(old: Pipeline): void {
    this.restoreOneTime(old.usedOneTime());
    this.engine.adoptAttempts(old.engine);
    this.access.carryOver(old.access);
    this.ignoreBefore = old.ignoreBefore;
  }

  // Everything `status` shows about the decisions side, as plain data.
  snapshot(): PipelineSnapshot {
    const attempts = this.engine.attemptsByDoor();
    return {
      now: this.lastTime,
      grants: this.grants().map((grant) => ({ ...grant })),
      bans: this.bans(),
      attempts: this.config.doors.map((door) => ({ door: door.name, sources: attempts.get(door.name) ?? [] })),
      tracked: this.engine.trackedSources,
      stats: {
        lines: this.stats.lines, knocks: this.stats.knocks, sshEvents: this.stats.sshEvents, invalid: this.stats.invalid,
        stale: this.stats.stale, evicted: this.stats.evicted, evictedAttempts: this.stats.evictedAttempts,
        opens: this.stats.opens, closes: this.stats.closes, bans: this.stats.bans,
      },
    };
  }

  handleLines(lines: readonly string[], parse: LineParser): void {
    this.readLines(lines, parse);
    const last = lines.at(-1);
    this.linesReadTo(last === undefined ? undefined : parse.timeOf(last));
  }

  // handleLines without moving the clock after the last line (the replay lane moves it where
  // the line reader's batches would end).
  readLines(lines: readonly string[], parse: LineParser): void {
    const stats = this.stats;
    const ports = parse.knocksOnly ? this.ports : undefined;
    for (let i = 0; i < lines.length; i++) {
      stats.lines++;
      const text = lines[i] as string;
      const outcome = ports === undefined ? parse(text) : parse.readKnockLine(text, ports);
      switch (outcome.status) {
        case 'otherPort':
          stats.otherPort++;
          break;
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
        case 'other':
          stats.otherProtocol++;
          break;
      }
    }
  }

  // After a run of lines: the clock moves to the last one's time (undefined: it has none).
  linesReadTo(stamp: number | undefined): void {
    // That line was counted already, as an event or not: out of range, it only moves nothing.
    if (stamp !== undefined && this.checkTime(stamp) === 'ok') this.advanceTo(stamp);
  }

  // A line the replay lane read as a kernel line that is no LOG line: what handleLines
  // does with a line the parser misses.
  countMissedLine(): void {
    this.stats.lines++;
    this.stats.missed++;
  }

  // A line the replay lane (replay-lane.ts) read as this knock: what handleLines does with a
  // line a knocks-only parser reads as it.
  handleScannedKnock(event: Knock): void {
    const stats = this.stats;
    stats.lines++;
    if (this.ports !== undefined && this.ports[event.dport] === 0) {
      stats.otherPort++;
      return;
    }
    stats.matched++;
    this.handleEvent(event);
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
      for (const decision of this.access.handleSsh(event)) this.emit(decision);
      return;
    }
    const prefix = this.config.options.logPrefix;
    if (prefix !== undefined && event.prefix !== prefix) {
      this.stats.otherPrefix++;
      return;
    }
    this.stats.knocks++;
    // A banned address's knocks are refused before they can start or advance anything.
    const decisions = this.engine.handleKnock(event, this.access.bannedUntil(event.src, event.time));
    this.emitAll(decisions);
    // A close_on_wrong_knock door's grant ends on its holder's knock out of sequence.
    this.emitAll(this.access.knocked(event, decisions));
    this.stats.evicted = this.engine.evictions;
  }

  // Runs for every knock: an indexed loop, as iterating the engine's frozen empty answer
  // would build an iterator each time.
  private emitAll(decisions: readonly Decision[]): void {
    for (let i = 0; i < decisions.length; i++) this.emit(decisions[i] as Decision);
  }

  // Moves the pipeline's clock: grants past their expiry end, stale attempts are dropped.
  advanceTo(time: number): void {
    this.lastTime = Math.max(this.lastTime, time);
    this.emitAll(this.access.advanceTo(time));
    if (time >= this.nextCleanup) {
      // Cleanups run at whole seconds of log time, each for its second, whatever line reached
      // it: a line that ends a read (it moves the clock too) or the next event. So where
      // reads end changes neither the decisions nor their order.
      const at = time - (time % CLEANUP_EVERY);
      this.nextCleanup = at + CLEANUP_EVERY;
      for (const slice of this.engine.cleanupInSlices(at, CLEANUP_SLICE)) {
        for (const decision of slice) this.emit(decision);
      }
      this.stats.evicted = this.engine.evictions;
      for (const decision of this.access.cleanup(at)) this.emit(decision);
    }
  }

  private checkTime(time: number): EventTimeCheck {
    const host = this.options.hostClock;
    return host === undefined ? 'ok' : checkEventTime(time, host.now());
  }

  // Forgets a grant without a decision: the caller has already taken it out of the firewall
  // (stop, rollback).
  forgetGrant(src: string, door: string, time: number): void {
    this.access.forget(src, door, time);
  }

  // Closes a grant from outside the knock path (an admin's close, a change the firewall did
  // not apply).
  closeGrant(src: string, door: string, time: number, by: CloseReason): void {
    for (const decision of this.access.close(src, door, time, by)) this.emit(decision);
  }

  // Counts a decision and hands it on; a completed door goes to access, a ban ends the
  // address's attempts in progress.
  private emit(decision: Decision): void {
    switch (decision.type) {
      case 'step':
        if (decision.step === 1) this.countersOf(decision.door).started++;
        break;
      case 'broken':
        this.countersOf(decision.door).broken++;
        if (decision.reason === 'evicted') this.stats.evictedAttempts++;
        break;
      case 'completed':
        this.countersOf(decision.door).completed++;
        this.sink(decision);
        for (const result of this.access.completed(decision.src, decision.door, decision.time)) this.emit(result);
        return;
      case 'open':
        this.stats.opens++;
        this.stats.granted.add(decision.src);
        break;
      case 'close':
      case 'expire':
        this.stats.closes++;
        break;
      case 'banned':
        this.stats.bans++;
        this.engine.forget(decision.src);
        break;
    }
    this.sink(decision);
  }

  // The engine's doors are the config's, so every step, break and completion names a door
  // counted here.
  private countersOf(door: string): DoorCounters {
    return this.stats.doors.get(door) as DoorCounters;
  }
}

function portTable(relevant: ReadonlySet<number> | undefined): Uint8Array | undefined {
  if (relevant === undefined) return undefined;
  const ports = new Uint8Array(65536);
  // From the few keys, not the 65,536 ports: this runs at every start.
  // (ICMP echo keys are lengths, not ports.)
  for (const key of relevant) if (key < ECHO_KEYS) ports[key % UDP_KEYS] = 1;
  return ports;
}

// Distinct reasons kept: the value in a reason is chosen by whoever wrote the line, so past
// this many, new ones are grouped without it.
const MAX_REASONS = 20;
const MAX_VALUE = 40;

// Invalid lines grouped by what was wrong, with the (attacker-chosen) value made harmless:
// printable ASCII only, anything else escaped, at most MAX_VALUE characters.
function countReason(reasons: Map<string, number>, reason: string): void {
  let key = reason.replace(/"(.*)"/s, (_quoted, value: string) => `"${sanitizeValue(value)}"`);
  if (!reasons.has(key) && reasons.size >= MAX_REASONS) key = reason.replace(/".*"/s, '"…"');
  reasons.set(key, (reasons.get(key) ?? 0) + 1);
}

function sanitizeValue(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    const safe = code >= 0x20 && code < 0x7f && char !== '\\' && char !== '"' ? char
      : code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
    if (out.length + safe.length > MAX_VALUE) return `${out}...`;
    out += safe;
  }
  return out;
}
