import type { Door, DoorStep, Options } from '../config/types.js';
import { formatStep } from '../config/types.js';
import { formatFlags, TcpFlag, type Knock } from '../filters/events.js';
import { networkContains } from '../net/address.js';
import type { Decision } from './decisions.js';
import { buildDoorIndex, destinationFits, flagsFit, knockKey, knockStep, stepKey } from './door-index.js';

interface Attempt {
  door: Door;
  sequence: readonly DoorStep[];
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

// Per-source knock state machines. Deterministic: time only comes from the events and from
// the `now` passed to cleanup(), so replay and live mode decide alike.
export class Engine {
  private readonly sources = new Map<string, SourceState>();
  // Addresses banned for failed logins: their knocks are refused until then.
  private readonly banned = new Map<string, number>();
  private readonly oneTimeUsed = new Map<string, number>();
  private readonly index: Map<number, Door[]>;
  private readonly trapKeys: Set<number>;
  private readonly anyStrict: boolean;
  private readonly options: EngineOptions;

  constructor(doors: readonly Door[], options: EngineOptions) {
    this.options = options;
    this.index = buildDoorIndex(doors.filter((door) => door.sequence.length > 0 || door.oneTimeSequences));
    this.trapKeys = new Set(options.trapPorts.map(stepKey));
    this.anyStrict = doors.some((door) => door.strict);
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

  // The sequence a door expects now: its own, or its first unused one-time sequence.
  private sequenceOf(door: Door): readonly DoorStep[] | undefined {
    if (door.oneTimeSequences === undefined) return door.sequence;
    return door.oneTimeSequences[this.oneTimeUsed.get(door.name) ?? 0];
  }

  // Per door, the sources with an attempt in progress.
  attemptsByDoor(): Map<string, string[]> {
    const byDoor = new Map<string, string[]>();
    for (const [src, state] of this.sources) {
      for (const attempt of state.attempts) {
        const list = byDoor.get(attempt.door.name) ?? [];
        list.push(src);
        byDoor.set(attempt.door.name, list);
      }
    }
    return byDoor;
  }

  usedOneTime(): Record<string, number> {
    return Object.fromEntries(this.oneTimeUsed);
  }

  restoreOneTime(used: Record<string, number>): void {
    for (const [name, count] of Object.entries(used)) this.oneTimeUsed.set(name, count);
  }

  handleKnock(knock: Knock): Decision[] {
    const key = knockKey(knock);
    const doorsHere = this.index.get(key);
    let state = this.sources.get(knock.src);
    if (state === undefined && doorsHere === undefined && !this.trapKeys.has(key)) return [];
    const decisions: Decision[] = [];
    const bannedUntil = this.banned.get(knock.src);
    if (bannedUntil !== undefined) {
      if (bannedUntil > knock.time) {
        if (doorsHere !== undefined) decisions.push({ type: 'refused', time: knock.time, src: knock.src, until: bannedUntil, reason: 'banned' });
        return decisions;
      }
      this.banned.delete(knock.src);
    }

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
        decisions.push(this.broken(attempt, knock, 'trap', `trap port ${formatStep(knockStep(knock))}`));
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

  // Refuses an address's knocks until `until`, ending its attempts in progress; never a
  // whitelisted address's.
  ban(src: string, until: number): void {
    if (this.isWhitelisted(src)) return;
    this.banned.set(src, until);
    this.sources.delete(src);
  }

  unban(src: string): void {
    this.banned.delete(src);
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
  adoptAttempts(old: Engine, doors: readonly Door[]): void {
    const byName = new Map(doors.map((door) => [door.name, door]));
    const same = (door: Door): Door | undefined => {
      const now = byName.get(door.name);
      return now !== undefined && JSON.stringify(now) === JSON.stringify(door) ? now : undefined;
    };
    let skip = old.sources.size - this.options.maxTracked;
    for (const [src, state] of old.sources) {
      if (skip-- > 0) continue;
      const attempts: Attempt[] = [];
      for (const attempt of state.attempts) {
        const door = same(attempt.door);
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
    while (this.sources.size > this.options.maxTracked) {
      const oldest = this.sources.entries().next().value;
      if (oldest === undefined) break;
      const [oldSrc, oldState] = oldest;
      for (const attempt of oldState.attempts) {
        decisions.push({ type: 'broken', time, src: oldSrc, door: attempt.door.name, reason: 'evicted',
          detail: `more than ${this.options.maxTracked} sources tracked` });
      }
      this.sources.delete(oldSrc);
    }
    return state;
  }

  private expireAttempts(state: SourceState, src: string, now: number, decisions: Decision[]): void {
    if (state.attempts.length === 0) return;
    state.attempts = state.attempts.filter((attempt) => {
      const deadline = attempt.start + attempt.door.seqTimeout;
      if (now <= deadline) return true;
      const got = attempt.missing === undefined ? attempt.next : attempt.sequence.length - attempt.missing.length;
      decisions.push({ type: 'broken', time: deadline, src, door: attempt.door.name, reason: 'timeout',
        detail: `${got} of ${attempt.sequence.length} steps within ${attempt.door.seqTimeout / 1000}s` });
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

  private advanceAttempts(state: SourceState, knock: Knock, key: number, doorsHere: Door[] | undefined, decisions: Decision[]): void {
    const onDoorPort = doorsHere?.some((door) => destinationFits(door, knock)) ?? false;
    if (!onDoorPort && !this.anyStrict) return;
    const kept: Attempt[] = [];
    for (const attempt of state.attempts) {
      const door = attempt.door;
      const fits = destinationFits(door, knock) && attemptExpects(attempt, key);
      if (knock.proto === 'tcp' && !flagsFit(door.tcpflags, knock) && (fits || onDoorPort)) {
        decisions.push(this.flagsIgnored(door, knock));
        kept.push(attempt);
      } else if (fits) {
        if (this.advance(attempt, key, knock, decisions)) kept.push(attempt);
      } else if (onDoorPort) {
        decisions.push(this.broken(attempt, knock, 'wrong-port', this.wrongPortDetail(attempt, knock)));
      } else if (door.strict) {
        decisions.push(this.broken(attempt, knock, 'strict', `other packet ${describeKnock(knock)} (strict door)`));
      } else {
        kept.push(attempt);
      }
    }
    state.attempts = kept;
  }

  // The attempts a knock starts for a source with none in progress (completed one-step
  // doors are reported and not kept).
  private startAttempts(knock: Knock, key: number, doorsHere: Door[], decisions: Decision[]): Attempt[] {
    const started: Attempt[] = [];
    for (const door of doorsHere) {
      const sequence = this.sequenceOf(door);
      if (sequence === undefined || !destinationFits(door, knock)) continue;
      const first = sequence[0];
      const starts = door.order === 'any' ? sequence.some((step) => stepKey(step) === key) : first !== undefined && stepKey(first) === key;
      if (!starts) continue;
      if (!flagsFit(door.tcpflags, knock)) {
        decisions.push(this.flagsIgnored(door, knock));
        continue;
      }
      const attempt: Attempt = {
        door, sequence, next: 0, start: knock.time,
        missing: door.order === 'any' ? sequence.map(stepKey) : undefined,
      };
      if (this.advance(attempt, key, knock, decisions)) started.push(attempt);
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
    const door = attempt.door;
    decisions.push({ type: 'step', time: knock.time, src: knock.src, door: door.name, step: done, of: attempt.sequence.length, knock: knockStep(knock) });
    if (done < attempt.sequence.length) return true;
    if (door.oneTimeSequences !== undefined) this.oneTimeUsed.set(door.name, (this.oneTimeUsed.get(door.name) ?? 0) + 1);
    decisions.push({ type: 'completed', time: knock.time, src: knock.src, door: door.name });
    return false;
  }

  private broken(attempt: Attempt, knock: Knock, reason: 'wrong-port' | 'strict' | 'trap', detail: string): Decision {
    return { type: 'broken', time: knock.time, src: knock.src, door: attempt.door.name, reason, detail };
  }

  private flagsIgnored(door: Door, knock: Knock): Decision {
    return { type: 'flags', time: knock.time, src: knock.src, door: door.name, knock: knockStep(knock),
      flags: formatFlags(knock.flags) || 'none', expected: door.tcpflags?.text ?? '' };
  }

  private wrongPortDetail(attempt: Attempt, knock: Knock): string {
    const got = describeKnock(knock);
    if (attempt.missing !== undefined) return `${got} is not one of the missing steps`;
    const expected = attempt.sequence[attempt.next];
    return `${got} at step ${attempt.next + 1} (expected ${expected ? formatStep(expected) : '?'})`;
  }
}

function attemptExpects(attempt: Attempt, key: number): boolean {
  if (attempt.missing !== undefined) return attempt.missing.includes(key);
  const expected = attempt.sequence[attempt.next];
  return expected !== undefined && stepKey(expected) === key;
}

function isPlainSyn(knock: Knock): boolean {
  return knock.proto === 'tcp' && (knock.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
}

function describeKnock(knock: Knock): string {
  return knock.proto === 'icmp' ? 'icmp' : formatStep(knockStep(knock));
}
