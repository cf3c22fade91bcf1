import type { Door, DoorStep, Options } from '../config/types.js';
import type { Sequence } from '../doors/door-kind.js';
import type { DoorSet, KnockDoor } from '../doors/door-set.js';
import { formatFlags, TcpFlag, type Knock } from '../filters/events.js';
import { networkContains } from '../net/address.js';
import type { BreakReason, Decision } from './decisions.js';
import { buildDoorIndex, destinationFits, flagsFit, knockKey, knockStep, stepKey } from './door-index.js';

interface Attempt {
  door: KnockDoor;
  sequence: Sequence;
  // order = sequence: index of the next step; order = any: keys of the steps still missing.
  next: number;
  missing: number[] | undefined;
  start: number;
}

interface RecentSyn {
  key: number;
  spt: number;
  time: number;
}

interface SourceState {
  attempts: Attempt[];
  recent: RecentSyn[];
  trappedUntil: number;
}

export type EngineOptions = Pick<Options, 'whitelist' | 'maxTracked' | 'retransmitWindow' | 'trapPorts' | 'trapFor'>;

const RECENT_LIMIT = 8;

// The answer to a knock that decides nothing, shared: the common case allocates nothing.
const NOTHING: readonly Decision[] = Object.freeze([]);

// Per-source knock state machines: the engine decides knocks only (bans, grants and
// sessions are src/access/). Deterministic: time only comes from the events and from the
// `now` passed to cleanup(), so replay and live mode decide alike.
export class Engine {
  private readonly sources = new Map<string, SourceState>();
  private readonly doors: readonly KnockDoor[];
  private readonly index: Map<number, KnockDoor[]>;
  private readonly trapKeys: Set<number>;
  private readonly anyStrict: boolean;
  private readonly options: EngineOptions;

  constructor(doors: DoorSet, options: EngineOptions) {
    this.options = options;
    this.doors = doors.doors;
    this.index = buildDoorIndex(this.doors);
    this.trapKeys = new Set(options.trapPorts.map(stepKey));
    this.anyStrict = this.doors.some(({ door }) => door.strict);
  }

  // The (protocol, port) keys a knock must have to matter, like knockd's capture filter; a
  // strict door wants every packet, so there is no such set then.
  relevantKeys(): ReadonlySet<number> | undefined {
    if (this.anyStrict) return undefined;
    return new Set([...this.index.keys(), ...this.trapKeys]);
  }

  get trackedSources(): number {
    return this.sources.size;
  }

  // Per door, the sources with an attempt in progress.
  attemptsByDoor(): Map<string, string[]> {
    const byDoor = new Map<string, string[]>();
    for (const [src, state] of this.sources) {
      for (const attempt of state.attempts) {
        const list = byDoor.get(attempt.door.door.name) ?? [];
        list.push(src);
        byDoor.set(attempt.door.door.name, list);
      }
    }
    return byDoor;
  }

  // Decides one knock. `bannedUntil` is set while the source is banned (src/access/ keeps
  // the bans): its knocks on door ports are refused and change nothing.
  handleKnock(knock: Knock, bannedUntil?: number): readonly Decision[] {
    const key = knockKey(knock);
    const doorsHere = this.index.get(key);
    if (bannedUntil !== undefined) {
      return doorsHere === undefined ? [] : [{ type: 'refused', time: knock.time, src: knock.src, until: bannedUntil, reason: 'banned' }];
    }
    let state = this.sources.get(knock.src);
    // Most LOG lines: an untracked source on a port no door or trap uses. Nothing to decide.
    if (state === undefined && doorsHere === undefined && !this.trapKeys.has(key)) return NOTHING;
    const decisions: Decision[] = [];

    if (state !== undefined) {
      this.expireAttempts(state, knock.src, knock.time, decisions);
      if (state.trappedUntil > knock.time) {
        if (doorsHere !== undefined) {
          decisions.push({ type: 'refused', time: knock.time, src: knock.src, until: state.trappedUntil, reason: 'trapped' });
        }
        return decisions;
      }
      if (this.isRetransmit(state, knock, key)) {
        decisions.push({ type: 'retransmit', time: knock.time, src: knock.src, knock: knockStep(knock), spt: knock.spt });
        return decisions;
      }
    }

    if (this.trapKeys.has(key) && !this.isWhitelisted(knock.src)) {
      state ??= this.track(knock.src, knock.time, decisions);
      for (const attempt of state.attempts) {
        decisions.push(this.broken(attempt, knock, { reason: 'trap', port: knockStep(knock) }));
      }
      state.attempts = [];
      state.trappedUntil = knock.time + this.options.trapFor;
      decisions.push({ type: 'trapped', time: knock.time, src: knock.src, until: state.trappedUntil, knock: knockStep(knock) });
      return decisions;
    }

    if (state !== undefined && state.attempts.length > 0) {
      this.rememberSyn(state, knock, key);
      this.advanceAttempts(state, knock, key, doorsHere, decisions);
      return decisions;
    }
    if (doorsHere === undefined) return decisions;
    const started = this.startAttempts(knock, key, doorsHere, decisions);
    if (started.length === 0) return decisions;
    if (state === undefined) {
      state = this.track(knock.src, knock.time, decisions);
    } else {
      // Move the source to the young end, so eviction takes the oldest attempts first.
      this.sources.delete(knock.src);
      this.sources.set(knock.src, state);
    }
    state.attempts = started;
    this.rememberSyn(state, knock, key);
    return decisions;
  }

  // Drops an address's attempts in progress without a decision (it was just banned).
  forget(src: string): void {
    this.sources.delete(src);
  }

  // Ends attempts past their timeout and forgets sources with nothing left to remember.
  cleanup(now: number): Decision[] {
    const decisions: Decision[] = [];
    for (const [src, state] of this.sources) {
      this.expireAttempts(state, src, now, decisions);
      if (state.attempts.length === 0 && state.trappedUntil <= now
        && state.recent.every((syn) => now - syn.time > this.options.retransmitWindow)) {
        this.sources.delete(src);
      }
    }
    return decisions;
  }

  // Takes over another engine's attempts in progress, trap periods and recent SYNs for the
  // doors that are the same here: a reload must not make someone knocking right then start
  // again. Attempts of doors that changed or went are dropped.
  adoptAttempts(old: Engine): void {
    const byName = new Map(this.doors.map((entry) => [entry.door.name, entry]));
    const same = (door: Door): KnockDoor | undefined => {
      const now = byName.get(door.name);
      return now !== undefined && JSON.stringify(now.door) === JSON.stringify(door) ? now : undefined;
    };
    let skip = old.sources.size - this.options.maxTracked;
    for (const [src, state] of old.sources) {
      if (skip-- > 0) continue;
      const attempts: Attempt[] = [];
      for (const attempt of state.attempts) {
        const door = same(attempt.door.door);
        if (door !== undefined) attempts.push({ ...attempt, door, missing: attempt.missing === undefined ? undefined : [...attempt.missing] });
      }
      this.sources.set(src, { attempts, recent: state.recent.map((syn) => ({ ...syn })), trappedUntil: state.trappedUntil });
    }
  }

  private isWhitelisted(src: string): boolean {
    return this.options.whitelist.some((network) => networkContains(network, src));
  }

  private track(src: string, time: number, decisions: Decision[]): SourceState {
    const state: SourceState = { attempts: [], recent: [], trappedUntil: 0 };
    this.sources.set(src, state);
    // The oldest source goes first when the cap is reached (Map order is insertion order).
    for (const [oldSrc, oldState] of this.sources) {
      if (this.sources.size <= this.options.maxTracked) break;
      for (const attempt of oldState.attempts) {
        decisions.push({ type: 'broken', time, src: oldSrc, door: attempt.door.door.name, reason: 'evicted', cap: this.options.maxTracked });
      }
      this.sources.delete(oldSrc);
    }
    return state;
  }

  private expireAttempts(state: SourceState, src: string, now: number, decisions: Decision[]): void {
    // Runs for every knock of a tracked source and every source at cleanup: no new array
    // when there is nothing to filter.
    if (state.attempts.length === 0) return;
    state.attempts = state.attempts.filter((attempt) => {
      const { seqTimeout, name } = attempt.door.door;
      const deadline = attempt.start + seqTimeout;
      if (now <= deadline) return true;
      const got = attempt.missing === undefined ? attempt.next : attempt.sequence.length - attempt.missing.length;
      decisions.push({ type: 'broken', time: deadline, src, door: name, reason: 'timeout', got, of: attempt.sequence.length, within: seqTimeout });
      return false;
    });
  }

  // A TCP SYN again from the same source port to the same port within the window is the
  // client's retransmission of one knock, not a second knock.
  private isRetransmit(state: SourceState, knock: Knock, key: number): boolean {
    if (!isPlainSyn(knock)) return false;
    for (const syn of state.recent) {
      if (syn.key === key && syn.spt === knock.spt && knock.time - syn.time <= this.options.retransmitWindow) {
        syn.time = knock.time;
        return true;
      }
    }
    return false;
  }

  private rememberSyn(state: SourceState, knock: Knock, key: number): void {
    if (!isPlainSyn(knock)) return;
    state.recent.push({ key, spt: knock.spt, time: knock.time });
    if (state.recent.length > RECENT_LIMIT) state.recent.shift();
  }

  private advanceAttempts(state: SourceState, knock: Knock, key: number, doorsHere: KnockDoor[] | undefined, decisions: Decision[]): void {
    const onDoorPort = doorsHere?.some(({ door }) => destinationFits(door, knock)) ?? false;
    // Off every door's ports, only a strict door's attempt can change: the others stay as they are.
    if (!onDoorPort && !this.anyStrict) return;
    const kept: Attempt[] = [];
    for (const attempt of state.attempts) {
      const door = attempt.door.door;
      const fits = destinationFits(door, knock) && attemptExpects(attempt, key);
      if (!flagsFit(door.tcpflags, knock) && (fits || onDoorPort)) {
        decisions.push(this.flagsIgnored(door, knock));
        kept.push(attempt);
      } else if (fits) {
        if (this.advance(attempt, key, knock, decisions)) kept.push(attempt);
      } else if (onDoorPort) {
        decisions.push(this.broken(attempt, knock, wrongPort(attempt, knock)));
      } else if (door.strict) {
        decisions.push(this.broken(attempt, knock, { reason: 'strict', got: knock.proto === 'icmp' ? 'icmp' : knockStep(knock) }));
      } else {
        kept.push(attempt);
      }
    }
    state.attempts = kept;
  }

  // The attempts a knock starts for a source with none in progress (completed one-step
  // doors are reported and not kept).
  private startAttempts(knock: Knock, key: number, doorsHere: KnockDoor[], decisions: Decision[]): Attempt[] {
    const started: Attempt[] = [];
    for (const entry of doorsHere) {
      const door = entry.door;
      if (!destinationFits(door, knock)) continue;
      const sequences = entry.kind.expected(knock.src, knock.time).filter((sequence) => startsWith(door, sequence, key));
      if (sequences.length === 0) continue;
      if (!flagsFit(door.tcpflags, knock)) {
        decisions.push(this.flagsIgnored(door, knock));
        continue;
      }
      for (const sequence of sequences) {
        const attempt: Attempt = {
          door: entry, sequence, next: 0, start: knock.time,
          missing: door.order === 'any' ? sequence.map(stepKey) : undefined,
        };
        if (this.advance(attempt, key, knock, decisions)) started.push(attempt);
      }
    }
    return started;
  }

  // Records one step; returns whether the attempt is still in progress.
  private advance(attempt: Attempt, key: number, knock: Knock, decisions: Decision[]): boolean {
    let done: number;
    if (attempt.missing !== undefined) {
      attempt.missing.splice(attempt.missing.indexOf(key), 1);
      done = attempt.sequence.length - attempt.missing.length;
    } else {
      attempt.next += 1;
      done = attempt.next;
    }
    const { door, kind } = attempt.door;
    decisions.push({ type: 'step', time: knock.time, src: knock.src, door: door.name, step: done, of: attempt.sequence.length, knock: knockStep(knock) });
    if (done < attempt.sequence.length) return true;
    if (kind.completed(attempt.sequence, knock.src, knock.time)) decisions.push({ type: 'completed', time: knock.time, src: knock.src, door: door.name });
    else decisions.push(this.broken(attempt, knock, { reason: 'used' }));
    return false;
  }

  private broken(attempt: Attempt, knock: Knock, why: BreakReason): Decision {
    return { type: 'broken', time: knock.time, src: knock.src, door: attempt.door.door.name, ...why };
  }

  private flagsIgnored(door: Door, knock: Knock): Decision {
    return { type: 'flags', time: knock.time, src: knock.src, door: door.name, knock: knockStep(knock),
      flags: formatFlags(knock.flags) || 'none', expected: door.tcpflags?.text ?? '' };
  }
}

function wrongPort(attempt: Attempt, knock: Knock): BreakReason {
  const got = knockStep(knock);
  const missing = attempt.missing;
  if (missing !== undefined) return { reason: 'wrong-port', got, missing: attempt.sequence.filter((step) => missing.includes(stepKey(step))) };
  return { reason: 'wrong-port', got, step: attempt.next + 1, expected: attempt.sequence[attempt.next] };
}

// Whether a knock on `key` may start `sequence` (its first step, or any step for order = any).
function startsWith(door: Door, sequence: Sequence, key: number): boolean {
  if (door.order === 'any') return sequence.some((step) => isStep(step, key));
  return isStep(sequence[0], key);
}

function attemptExpects(attempt: Attempt, key: number): boolean {
  if (attempt.missing !== undefined) return attempt.missing.includes(key);
  return isStep(attempt.sequence[attempt.next], key);
}

// `step` is undefined past a sequence's end, which neither a door's first step nor the next
// step of an attempt in progress ever is.
function isStep(step: DoorStep | undefined, key: number): boolean {
  return step !== undefined && stepKey(step) === key;
}

function isPlainSyn(knock: Knock): boolean {
  return knock.proto === 'tcp' && (knock.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
}

