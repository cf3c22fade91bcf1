import type { Door, DoorStep, Options } from '../config/types.js';
import type { Sequence } from '../doors/door-kind.js';
import type { DoorSet, KnockDoor } from '../doors/door-set.js';
import { formatFlags, isEchoRequest, TcpFlag, type Knock } from '../filters/events.js';
import type { BreakReason, Decision } from './decisions.js';
import { StaticKind } from '../doors/static-kind.js';
import { DueQueue } from './due-queue.js';
import { buildDoorIndex, destinationFits, flagsFit, knockKey, knockStep, stepKey } from './door-index.js';
import { FirstSteps } from './first-steps.js';
import { KeyTable } from './key-table.js';
import { addressToWords } from './address-words.js';
import { GONE } from './source-index.js';
import { SourceTiers, TOP_TIER, type TierNode } from './source-tiers.js';
import { WordNetworks } from './word-networks.js';

interface Attempt {
  door: KnockDoor;
  sequence: Sequence;
  // order = sequence: index of the next step; order = any: keys of the steps still missing.
  next: number;
  missing: number[] | undefined;
  start: number;
  // When the last step came (step_timeout runs from it).
  last: number;
}

interface RecentSyn {
  key: number;
  spt: number;
  time: number;
}

interface SourceState extends TierNode {
  attempts: Attempt[];
  recent: RecentSyn[];
  trappedUntil: number;
  // When it was added to the tracked sources: cleanup decides them in that order.
  seq: number;
  // The earliest time it is in the due queue for (Infinity: not queued; TAKEN: taken out by
  // the cleanup running).
  scheduled: number;
}

// The doors on a key where a new source's knock can only start static doors' attempts at
// their first step: per door (door-index order), the length of its sequence when it starts
// on the key, 0 when the key is a later step of it.
interface FirstStepPlan {
  doors: readonly KnockDoor[];
  lengths: readonly number[];
}

// What the engine reads of a door or trap port's (protocol, port) key, for every knock on it
// and every first-step entry on it.
interface KeyFacts {
  // The doors using it (door-index order), undefined on a trap port no door uses.
  doors: KnockDoor[] | undefined;
  trap: boolean;
  // A new source's knock here is decided by startFirstSteps.
  plan: FirstStepPlan | undefined;
  // Per door, for a first-step entry (the bits of its mask): how long its attempt runs with
  // one step done (firstStepLimit) and how many steps its sequence has (entries hold static
  // doors only; 0 for the others).
  limits: readonly number[];
  lengths: readonly number[];
}

export type EngineOptions = Pick<Options, 'whitelist' | 'maxTracked' | 'maxFirstSteps' | 'retransmitWindow' | 'trapPorts' | 'trapFor'>;

// A mask of doors per first-step entry (first-steps.ts): a port used by more doors than
// this keeps its sources as full states.
const MASK_DOORS = 32;

const RECENT_LIMIT = 8;

const TAKEN = -1;

// The answer to a knock that decides nothing, shared: the common case allocates nothing.
const NOTHING: readonly Decision[] = Object.freeze([]);

// Per-source knock state machines: the engine decides knocks only (bans, grants and
// sessions are src/access/). Deterministic: time only comes from the events and from the
// `now` passed to cleanup(), so replay and live mode decide alike.
//
// Sources are kept in two places. A source whose only knock started attempts of static
// doors is a first-step entry (first-steps.ts: compact, up to max_first_steps, the oldest
// goes first): a spoofed flood on a first knock port lands there and only there. Any
// further knock of the source turns it into a full state, kept in tiers by progress
// (source-tiers.ts, up to max_tracked): eviction takes a source with less progress first,
// and among equals the one that moved on least recently.
export class Engine {
  private readonly sources = new SourceTiers<SourceState>();
  // Tracked sources by the earliest time a cleanup may change them (an attempt times out,
  // or they may be forgotten), at or before it: a cleanup reads only those due.
  private readonly due = new DueQueue<SourceState>();
  private added = 0;
  private readonly firstSteps: FirstSteps;
  // New sources whose first knock was on a trap port, while trapped: a table of the same kind
  // as the first steps (its start is when the trap period ends), at most max_tracked, the
  // oldest going first. A trap-port flood lands there and only there: no full state, no
  // queue entry, nothing for the collector per source.
  private readonly traps: FirstSteps;
  private readonly doors: readonly KnockDoor[];
  private readonly index: Map<number, KnockDoor[]>;
  private readonly trapKeys: Set<number>;
  private readonly keyFacts: KeyTable<KeyFacts>;
  private readonly anyStrict: boolean;
  private readonly options: EngineOptions;
  private readonly whitelist: WordNetworks;
  // Whether the knock being decided completed a step (the source moves to its tier's young end).
  private stepped = false;
  // The source of the knock being decided as address words, read once when first needed
  // (the first-step table and the whitelist both want them); -1 until then.
  private readonly srcWords = new Uint32Array(4);
  private srcFamily = -1;
  private evictedSources = 0;

  constructor(doors: DoorSet, options: EngineOptions) {
    this.options = options;
    this.whitelist = new WordNetworks(options.whitelist);
    this.doors = doors.doors;
    this.index = buildDoorIndex(this.doors);
    this.trapKeys = new Set(options.trapPorts.map(stepKey));
    this.anyStrict = this.doors.some(({ door }) => door.strict);
    this.firstSteps = new FirstSteps(options.maxFirstSteps);
    // max_first_steps = 0: every source is a full state, counted against max_tracked.
    this.traps = new FirstSteps(options.maxFirstSteps === 0 ? 0 : options.maxTracked);
    const plans = options.maxFirstSteps === 0 ? new Map<number, FirstStepPlan>() : firstStepPlans(this.index, this.trapKeys);
    const facts = new Map<number, KeyFacts>();
    for (const key of [...this.index.keys(), ...this.trapKeys]) facts.set(key, keyFactsOf(this.index.get(key), this.trapKeys.has(key), plans.get(key)));
    this.keyFacts = new KeyTable(facts);
  }

  // The (protocol, port) keys a knock must have to matter, like knockd's capture filter; a
  // strict door wants every packet, so there is no such set then.
  relevantKeys(): ReadonlySet<number> | undefined {
    if (this.anyStrict) return undefined;
    return new Set([...this.index.keys(), ...this.trapKeys]);
  }

  get trackedSources(): number {
    return this.sources.size + this.firstSteps.size + this.traps.size;
  }

  // Sources dropped so far to stay under max_tracked or max_first_steps.
  get evictions(): number {
    return this.evictedSources;
  }

  // Per door, the sources with an attempt in progress.
  attemptsByDoor(): Map<string, string[]> {
    const byDoor = new Map<string, string[]>();
    const add = (door: string, src: string): void => {
      const list = byDoor.get(door) ?? [];
      list.push(src);
      byDoor.set(door, list);
    };
    // In the order the sources were added.
    for (const state of this.sources.values().sort((a, b) => a.seq - b.seq)) {
      for (const attempt of state.attempts) add(attempt.door.door.name, state.src);
    }
    for (const slot of this.firstSteps.slots()) {
      const src = this.firstSteps.src(slot);
      for (const entry of this.firstStepDoors(slot)) add(entry.door.name, src);
    }
    return byDoor;
  }

  // Decides one knock. `bannedUntil` is set while the source is banned (src/access/ keeps
  // the bans): its knocks on door ports are refused and change nothing.
  handleKnock(knock: Knock, bannedUntil?: number): readonly Decision[] {
    const key = knockKey(knock);
    // Undefined: a port no door or trap uses.
    const facts = this.keyFacts.get(key);
    const doorsHere = facts?.doors;
    if (bannedUntil !== undefined) {
      return doorsHere === undefined ? NOTHING : [{ type: 'refused', time: knock.time, src: knock.src, until: bannedUntil, reason: 'banned' }];
    }
    this.srcFamily = -1;
    // With nothing tracked (a flood of new sources), the address is not even read.
    let state = this.sources.size === 0 ? undefined : this.sources.get(knock.src, this.srcWords, this.wordsOf(knock.src));
    const placed = state !== undefined;
    let promoted = false;
    if (state === undefined && this.firstSteps.size > 0) {
      const slot = this.firstSteps.findWords(this.srcWords, this.wordsOf(knock.src));
      if (slot !== -1) {
        if (this.isFirstStepRetransmit(slot, knock, key)) {
          return [{ type: 'retransmit', time: knock.time, src: knock.src, knock: knockStep(knock), spt: knock.spt }];
        }
        state = this.rebuild(slot, knock.src);
        this.firstSteps.remove(slot);
        promoted = true;
      }
    }
    if (state === undefined && this.traps.size > 0) {
      const slot = this.traps.findWords(this.srcWords, this.wordsOf(knock.src));
      if (slot !== -1) {
        const until = this.traps.start(slot);
        if (until > knock.time) return doorsHere === undefined ? NOTHING : [{ type: 'refused', time: knock.time, src: knock.src, until, reason: 'trapped' }];
        // Its trap period is over (a cleanup would have forgotten it): a new source again.
        this.traps.remove(slot);
      }
    }
    // Most LOG lines: an untracked source on a port no door or trap uses. Nothing to decide.
    if (state === undefined && facts === undefined) return NOTHING;
    const plan = state === undefined ? facts?.plan : undefined;
    if (plan !== undefined && this.wordsOf(knock.src) !== 0) return this.startFirstSteps(knock, key, plan);
    if (state === undefined && facts?.trap === true && this.traps.capacity > 0 && this.wordsOf(knock.src) !== 0
      && !this.whitelist.containsWords(knock.src, this.srcWords, this.srcFamily)) return this.trapNew(knock);
    const decisions: Decision[] = [];
    this.stepped = false;
    state = this.decide(knock, key, facts, state, decisions);
    if (state === undefined) return decisions;
    if (placed) {
      const tier = tierOf(state);
      if (this.stepped || tier !== state.tier) this.sources.touch(state, tier);
      this.schedule(state);
    } else if (promoted || !this.keepFirstStep(state, knock, key, doorsHere, decisions)) {
      this.track(state, knock.time, decisions, this.wordsOf(knock.src));
    }
    return decisions;
  }

  // Drops an address's attempts in progress and its trap period without a decision (it was
  // just banned).
  forget(src: string): void {
    const state = this.sources.find(src);
    if (state !== undefined) this.sources.delete(state);
    const slot = this.firstSteps.find(src);
    if (slot !== -1) this.firstSteps.remove(slot);
    const trap = this.traps.find(src);
    if (trap !== -1) this.traps.remove(trap);
  }

  // Ends attempts past their timeout and forgets sources with nothing left to remember.
  cleanup(now: number): Decision[] {
    const decisions = this.cleanupTracked(now);
    this.cleanupFirstSteps(now, Infinity, decisions);
    return decisions;
  }

  // cleanup() in slices of at most `slice` first-step entries, for a caller that hands the
  // decisions on as they come: same decisions, same order. A flood leaves tens of thousands
  // of entries due at once; decisions handed on in slices die young instead of piling up
  // in V8's old generation.
  *cleanupInSlices(now: number, slice: number): Generator<Decision[]> {
    yield this.cleanupTracked(now);
    while (this.firstStepDue(now)) {
      const decisions: Decision[] = [];
      this.cleanupFirstSteps(now, slice, decisions);
      yield decisions;
    }
  }

  // The tracked sources due at `now`, in the order they were added: the same decisions, in
  // the same order, as reading every tracked source (the others would not change).
  private cleanupTracked(now: number): Decision[] {
    this.cleanupTraps(now);
    const decisions: Decision[] = [];
    const due: SourceState[] = [];
    for (const state of this.due.takeDue(now)) {
      if (state.scheduled === TAKEN || !this.sources.has(state)) continue;
      state.scheduled = TAKEN;
      due.push(state);
    }
    due.sort((a, b) => a.seq - b.seq);
    for (const state of due) {
      state.scheduled = Infinity;
      this.expireAttempts(state, state.src, now, decisions);
      if (state.attempts.length === 0 && state.trappedUntil <= now && this.synsOver(state, now)) {
        this.sources.delete(state);
        continue;
      }
      if (tierOf(state) !== state.tier) this.sources.touch(state, tierOf(state));
      this.schedule(state);
    }
    return decisions;
  }

  // Forgets trap entries whose period is over, oldest first, as a full state with nothing
  // else to remember is forgotten then. Entries are in the order they came, and so in the
  // order their periods end (trap_for is the same for all; after a reload that changed it,
  // an entry past its end behind one that is not is passed over by handleKnock until then).
  private cleanupTraps(now: number): void {
    const traps = this.traps;
    while (traps.size > 0 && traps.start(traps.oldest) <= now) traps.remove(traps.oldest);
  }

  // A new source's knock on a trap port: its trap period, as a trap entry. Past the table's
  // capacity the oldest entry goes (an eviction, unless its period is over).
  private trapNew(knock: Knock): readonly Decision[] {
    const until = knock.time + this.options.trapFor;
    const traps = this.traps;
    if (traps.full) {
      if (traps.start(traps.oldest) > knock.time) this.evictedSources++;
      traps.remove(traps.oldest);
    }
    traps.addWords(this.srcWords, this.srcFamily, until, 0, -1, 0);
    return [{ type: 'trapped', time: knock.time, src: knock.src, until, knock: knockStep(knock) }];
  }

  // Queues a tracked source for the earliest time a cleanup may change it, unless it is
  // queued for that or earlier already (a later cleanup that finds nothing due queues it again).
  private schedule(state: SourceState): void {
    let time = Infinity;
    for (const attempt of state.attempts) {
      const door = attempt.door.door;
      time = Math.min(time, attempt.start + door.seqTimeout, door.stepTimeout === undefined ? Infinity : attempt.last + door.stepTimeout);
    }
    if (state.attempts.length === 0) {
      time = state.trappedUntil;
      // A millisecond early: synsOver compares a difference, not this sum.
      for (const syn of state.recent) time = Math.max(time, syn.time + this.options.retransmitWindow - 1);
    }
    if (time >= state.scheduled) return;
    state.scheduled = time;
    this.due.push(time, state);
  }

  // Takes over another engine's attempts in progress, trap periods and recent SYNs for the
  // doors that are the same here: a reload must not make someone knocking right then start
  // again. Attempts of doors that changed or went are dropped; past the caps, the sources
  // eviction would take go first, without a decision.
  adoptAttempts(old: Engine): void {
    const byName = new Map(this.doors.map((entry) => [entry.door.name, entry]));
    const same = (door: Door): KnockDoor | undefined => {
      const now = byName.get(door.name);
      return now !== undefined && JSON.stringify(now.door) === JSON.stringify(door) ? now : undefined;
    };
    const memo = new Map<Door, KnockDoor | undefined>();
    const sameMemo = (door: Door): KnockDoor | undefined => {
      if (!memo.has(door)) memo.set(door, same(door));
      return memo.get(door);
    };
    const adopt = (src: string, state: SourceState): void => {
      const attempts: Attempt[] = [];
      for (const attempt of state.attempts) {
        const door = sameMemo(attempt.door.door);
        if (door !== undefined) attempts.push({ ...attempt, door, missing: attempt.missing === undefined ? undefined : [...attempt.missing] });
      }
      const added = this.sources.addText(src, tierOf({ attempts }), (copy) => ({ src: copy, attempts, recent: state.recent.map((syn) => ({ ...syn })),
        trappedUntil: state.trappedUntil, seq: this.added++, scheduled: Infinity, tier: 0, prev: undefined, next: undefined, slot: GONE }));
      this.schedule(added);
      this.evictOver(undefined, []);
    };
    for (const state of old.sources) adopt(state.src, state);
    for (const slot of old.traps.slots()) {
      const src = old.traps.src(slot);
      const until = old.traps.start(slot);
      if (this.traps.capacity === 0) {
        adopt(src, { ...newState(src), trappedUntil: until });
        continue;
      }
      if (this.traps.full) this.traps.remove(this.traps.oldest);
      this.traps.add(src, until, 0, -1, 0);
    }
    for (const slot of old.firstSteps.slots()) {
      const src = old.firstSteps.src(slot);
      const state = old.rebuild(slot, src);
      const kept = state.attempts.map((attempt) => sameMemo(attempt.door.door));
      const doorsHere = this.index.get(old.firstSteps.key(slot));
      const mask = doorsHere !== undefined && kept.every((door) => door !== undefined) ? maskOf(kept, doorsHere) : undefined;
      if (this.firstSteps.capacity === 0 || mask === undefined) {
        adopt(src, state);
        continue;
      }
      this.makeFirstStepRoom(undefined, []);
      const added = this.firstSteps.add(src, old.firstSteps.start(slot), old.firstSteps.key(slot), old.firstSteps.spt(slot), mask);
      this.firstSteps.retransmitted(added, old.firstSteps.lastSyn(slot));
    }
  }

  // The knock's decisions for a source's full state (undefined: untracked); returns the
  // state the source has after it (a new one not kept anywhere yet), or undefined.
  private decide(knock: Knock, key: number, facts: KeyFacts | undefined, existing: SourceState | undefined, decisions: Decision[]): SourceState | undefined {
    const doorsHere = facts?.doors;
    let state = existing;
    if (state !== undefined) {
      this.expireAttempts(state, knock.src, knock.time, decisions);
      if (state.trappedUntil > knock.time) {
        if (doorsHere !== undefined) {
          decisions.push({ type: 'refused', time: knock.time, src: knock.src, until: state.trappedUntil, reason: 'trapped' });
        }
        return state;
      }
      if (this.isRetransmit(state, knock, key)) {
        decisions.push({ type: 'retransmit', time: knock.time, src: knock.src, knock: knockStep(knock), spt: knock.spt });
        return state;
      }
    }

    if (facts?.trap === true && !this.whitelist.containsWords(knock.src, this.srcWords, this.wordsOf(knock.src))) {
      state ??= newState(knock.src);
      for (const attempt of state.attempts) {
        decisions.push(this.broken(attempt, knock, { reason: 'trap', port: knockStep(knock) }));
      }
      state.attempts = [];
      state.trappedUntil = knock.time + this.options.trapFor;
      decisions.push({ type: 'trapped', time: knock.time, src: knock.src, until: state.trappedUntil, knock: knockStep(knock) });
      return state;
    }

    if (state !== undefined && state.attempts.length > 0) {
      this.rememberSyn(state, knock, key);
      this.advanceAttempts(state, knock, key, doorsHere, decisions);
      return state;
    }
    if (doorsHere === undefined) return state;
    const started = this.startAttempts(knock, key, doorsHere, decisions);
    if (started.length === 0) return state;
    state ??= newState(knock.src);
    state.attempts = started;
    this.rememberSyn(state, knock, key);
    return state;
  }

  // A new source's first knock started attempts of static doors only: it is kept as a
  // first-step entry. False when it cannot be one (the caller keeps it as a full state).
  private keepFirstStep(state: SourceState, knock: Knock, key: number, doorsHere: KnockDoor[] | undefined, decisions: Decision[]): boolean {
    if (this.firstSteps.capacity === 0 || doorsHere === undefined || state.attempts.length === 0 || state.trappedUntil !== 0) return false;
    if (!state.attempts.every((attempt) => attempt.door.kind instanceof StaticKind)) return false;
    const mask = maskOf(state.attempts.map((attempt) => attempt.door), doorsHere);
    if (mask === undefined) return false;
    this.makeFirstStepRoom(knock.time, decisions);
    return this.firstSteps.addWords(this.srcWords, this.wordsOf(knock.src), knock.time, key, state.recent.length > 0 ? knock.spt : -1, mask) !== -1;
  }

  // The family of the knock's source with its words in srcWords (0: no canonical address).
  private wordsOf(src: string): number {
    if (this.srcFamily === -1) this.srcFamily = addressToWords(src, this.srcWords, 0);
    return this.srcFamily;
  }

  // A new source's knock on a key with a plan: the decisions startAttempts and keepFirstStep
  // make, without building the attempts and the state that would become a first-step entry
  // at once (a spoofed flood's every line). The source's words are read (wordsOf).
  private startFirstSteps(knock: Knock, key: number, plan: FirstStepPlan): readonly Decision[] {
    let decisions: Decision[] | undefined;
    let mask = 0;
    for (let bit = 0; bit < plan.doors.length; bit++) {
      const length = plan.lengths[bit] as number;
      if (length === 0) continue;
      const door = (plan.doors[bit] as KnockDoor).door;
      if (!flagsFit(door.tcpflags, knock)) {
        decisions = appended(decisions, this.flagsIgnored(door, knock));
        continue;
      }
      decisions = appended(decisions, { type: 'step', time: knock.time, src: knock.src, door: door.name, step: 1, of: length, knock: knockStep(knock) });
      mask |= 1 << bit;
    }
    if (decisions === undefined) return NOTHING;
    if (mask !== 0) {
      this.makeFirstStepRoom(knock.time, decisions);
      this.firstSteps.addWords(this.srcWords, this.srcFamily, knock.time, key, isPlainSyn(knock) ? knock.spt : -1, mask >>> 0);
    }
    return decisions;
  }

  // Frees the oldest first-step entry when the table is full. `time` undefined: silently (a reload).
  private makeFirstStepRoom(time: number | undefined, decisions: Decision[]): void {
    if (!this.firstSteps.full) return;
    const slot = this.firstSteps.oldest;
    if (time !== undefined) {
      const src = this.firstSteps.src(slot);
      const start = this.firstSteps.start(slot);
      const mask = this.firstSteps.mask(slot);
      const facts = this.factsOf(slot);
      // As expireAttempts decides the entry's attempts, without building them (a flood past
      // the cap evicts one entry per knock): those timed out first, then the rest evicted.
      for (let bit = 0; bit < facts.limits.length; bit++) {
        if ((mask & (1 << bit)) !== 0 && time > start + (facts.limits[bit] as number)) decisions.push(entryTimeout(facts, bit, src, start));
      }
      for (let bit = 0; bit < facts.limits.length; bit++) {
        if ((mask & (1 << bit)) === 0 || time > start + (facts.limits[bit] as number)) continue;
        decisions.push({ type: 'broken', time, src, door: entryDoor(facts, bit).name, reason: 'evicted', cap: this.firstSteps.capacity });
      }
      this.evictedSources++;
    }
    this.firstSteps.remove(slot);
  }

  // The full state a first-step entry stands for: its attempts after the one knock, and
  // that knock's SYN.
  private rebuild(slot: number, src: string): SourceState {
    const steps = this.firstSteps;
    const key = steps.key(slot);
    const start = steps.start(slot);
    const attempts: Attempt[] = this.firstStepDoors(slot).map((entry) => {
      const sequence = entry.kind.expected(src, start)[0] as Sequence;
      const missing = entry.door.order === 'any' ? sequence.map(stepKey) : undefined;
      missing?.splice(missing.indexOf(key), 1);
      return { door: entry, sequence, next: 1, missing, start, last: start };
    });
    return { ...newState(src), attempts, recent: this.entrySyns(slot) };
  }

  // The SYN a first-step entry remembers for retransmissions, as a full state keeps it.
  private entrySyns(slot: number): RecentSyn[] {
    const spt = this.firstSteps.spt(slot);
    return spt === -1 ? [] : [{ key: this.firstSteps.key(slot), spt, time: this.firstSteps.lastSyn(slot) }];
  }

  private factsOf(slot: number): KeyFacts {
    return this.keyFacts.get(this.firstSteps.key(slot)) as KeyFacts;
  }

  // The doors whose attempts a first-step entry stands for (not to be changed by the caller).
  private firstStepDoors(slot: number): readonly KnockDoor[] {
    const mask = this.firstSteps.mask(slot);
    const doorsHere = this.factsOf(slot).doors ?? [];
    // Mostly every door on the port: no copy then.
    if (mask === 2 ** doorsHere.length - 1) return doorsHere;
    return doorsHere.filter((_entry, bit) => (mask & (1 << bit)) !== 0);
  }

  // A first-step entry's SYN again, while none of its attempts has timed out: the one knock
  // it was, nothing else changes.
  private isFirstStepRetransmit(slot: number, knock: Knock, key: number): boolean {
    const steps = this.firstSteps;
    if (!isPlainSyn(knock) || steps.key(slot) !== key || steps.spt(slot) !== knock.spt) return false;
    if (knock.time - steps.lastSyn(slot) > this.options.retransmitWindow) return false;
    if (knock.time > steps.start(slot) + maskLimit(this.factsOf(slot), steps.mask(slot), false)) return false;
    steps.retransmitted(slot, knock.time);
    return true;
  }

  // First-step entries, oldest first, while their attempts have timed out (at most `limit`):
  // each timeout is decided, and an entry goes once its SYN is past retransmit_window too.
  // Stops at the first entry with an attempt still running (entries are in the order their
  // knocks came).
  private cleanupFirstSteps(now: number, limit: number, decisions: Decision[]): void {
    const steps = this.firstSteps;
    for (let done = 0; done < limit && this.firstStepDue(now); done++) {
      const slot = steps.oldest;
      const src = steps.src(slot);
      const start = steps.start(slot);
      const mask = steps.mask(slot);
      const facts = this.factsOf(slot);
      // Due: each attempt has timed out with its first step done (decided without building
      // the attempts: a flood leaves tens of thousands of entries due each second).
      for (let bit = 0; bit < facts.limits.length; bit++) {
        if ((mask & (1 << bit)) !== 0) decisions.push(entryTimeout(facts, bit, src, start));
      }
      // A SYN that may still come again as a retransmission keeps the source, as a full state.
      const state = steps.spt(slot) !== -1 && now - steps.lastSyn(slot) <= this.options.retransmitWindow
        ? { ...newState(src), recent: this.entrySyns(slot) } : undefined;
      steps.remove(slot);
      if (state !== undefined) this.track(state, now, decisions);
    }
  }

  // Whether the oldest first-step entry has no attempt running any more at `now`.
  private firstStepDue(now: number): boolean {
    if (this.firstSteps.size === 0) return false;
    const slot = this.firstSteps.oldest;
    return now > this.firstSteps.start(slot) + maskLimit(this.factsOf(slot), this.firstSteps.mask(slot), true);
  }

  private synsOver(state: SourceState, now: number): boolean {
    return state.recent.every((syn) => now - syn.time > this.options.retransmitWindow);
  }

  // Keeps a new or promoted source as a full state; past max_tracked, the source with the
  // least progress that moved on least recently goes (which may be this one). `family`: the
  // source's words are in srcWords (wordsOf); undefined, they are read from its text.
  private track(state: SourceState, time: number, decisions: Decision[], family?: number): void {
    // Spelt out rather than spread: V8 builds a literal of a known shape faster.
    const build = (src: string): SourceState => ({
      src, attempts: state.attempts, recent: state.recent, trappedUntil: state.trappedUntil, seq: this.added++, scheduled: Infinity, tier: 0, prev: undefined, next: undefined, slot: GONE,
    });
    const tier = tierOf(state);
    this.schedule(family === undefined ? this.sources.addText(state.src, tier, build) : this.sources.add(state.src, this.srcWords, family, tier, build));
    this.evictOver(time, decisions);
  }

  // `time` undefined: silently (a reload).
  private evictOver(time: number | undefined, decisions: Decision[]): void {
    while (this.sources.size > this.options.maxTracked) {
      const victim = this.sources.victim() as SourceState;
      if (time !== undefined) {
        for (const attempt of victim.attempts) {
          decisions.push({ type: 'broken', time, src: victim.src, door: attempt.door.door.name, reason: 'evicted', cap: this.options.maxTracked });
        }
        this.evictedSources++;
      }
      this.sources.delete(victim);
    }
  }

  private expireAttempts(state: SourceState, src: string, now: number, decisions: Decision[]): void {
    // Runs for every knock of a tracked source and every source at cleanup: no new array
    // when there is nothing to filter.
    if (state.attempts.length === 0) return;
    state.attempts = state.attempts.filter((attempt) => {
      const door = attempt.door.door;
      if (now <= attempt.start + door.seqTimeout && (door.stepTimeout === undefined || now <= attempt.last + door.stepTimeout)) return true;
      const got = attempt.missing === undefined ? attempt.next : attempt.sequence.length - attempt.missing.length;
      decisions.push(timedOut(door, src, attempt.start, attempt.last, got, attempt.sequence.length));
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
        decisions.push(this.broken(attempt, knock, { reason: 'strict', got: knock.proto === 'icmp' && !isEchoRequest(knock) ? 'icmp' : knockStep(knock) }));
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
          door: entry, sequence, next: 0, start: knock.time, last: knock.time,
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
    attempt.last = knock.time;
    this.stepped = true;
    decisions.push({ type: 'step', time: knock.time, src: knock.src, door: door.name, step: done, of: attempt.sequence.length, knock: knockStep(knock) });
    if (done < attempt.sequence.length) return true;
    const refused = kind.completed(attempt.sequence, knock.src, knock.time);
    if (refused === undefined) decisions.push({ type: 'completed', time: knock.time, src: knock.src, door: door.name });
    else decisions.push(this.broken(attempt, knock, { reason: refused }));
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

// An attempt that started at `start`, last stepped at `last` and ran out of time with `got`
// of its `of` steps: at the step's deadline when that came before seq_timeout's.
function timedOut(door: Door, src: string, start: number, last: number, got: number, of: number): Decision {
  if (door.stepTimeout !== undefined && last + door.stepTimeout < start + door.seqTimeout) {
    return { type: 'broken', time: last + door.stepTimeout, src, door: door.name, reason: 'step-timeout', step: got + 1, within: door.stepTimeout };
  }
  return { type: 'broken', time: start + door.seqTimeout, src, door: door.name, reason: 'timeout', got, of, within: door.seqTimeout };
}

// The timeout of a first-step entry's attempt of the door at `bit` (one step done, started at `start`).
function entryTimeout(facts: KeyFacts, bit: number, src: string, start: number): Decision {
  return timedOut(entryDoor(facts, bit), src, start, start, 1, facts.lengths[bit] as number);
}

// The door at `bit` of a first-step entry's mask (entries are on door ports only).
function entryDoor(facts: KeyFacts, bit: number): Door {
  return ((facts.doors as KnockDoor[])[bit] as KnockDoor).door;
}

function keyFactsOf(doors: KnockDoor[] | undefined, trap: boolean, plan: FirstStepPlan | undefined): KeyFacts {
  return {
    doors, trap, plan,
    limits: (doors ?? []).map(({ door }) => firstStepLimit(door)),
    lengths: (doors ?? []).map(({ kind }) => (kind instanceof StaticKind ? (kind.expected()[0] as Sequence).length : 0)),
  };
}

// The longest or the shortest time the attempts of an entry with `mask` run. A time is past
// start + each limit exactly when it is past start + the longest (rounding keeps the order).
function maskLimit(facts: KeyFacts, mask: number, longest: boolean): number {
  let limit = longest ? -Infinity : Infinity;
  for (let bit = 0; bit < facts.limits.length; bit++) {
    const own = facts.limits[bit] as number;
    if ((mask & (1 << bit)) !== 0 && (longest ? own > limit : own < limit)) limit = own;
  }
  return limit;
}

// How long a source with only its first step keeps a door's attempt running.
function firstStepLimit(door: Door): number {
  return Math.min(door.seqTimeout, door.stepTimeout ?? Infinity);
}

// `list` with `decision` at its end; a new list is an array literal of one (the common
// answer to a knock), where push on an empty array would reserve 16 slots.
function appended(list: Decision[] | undefined, decision: Decision): Decision[] {
  if (list === undefined) return [decision];
  list.push(decision);
  return list;
}

function newState(src: string): SourceState {
  return { src, attempts: [], recent: [], trappedUntil: 0, seq: 0, scheduled: Infinity, tier: 0, prev: undefined, next: undefined, slot: GONE };
}

// The most steps any attempt of the source has done (see source-tiers.ts).
function tierOf(state: { attempts: readonly Attempt[] }): number {
  let done = 0;
  for (const attempt of state.attempts) {
    done = Math.max(done, attempt.missing === undefined ? attempt.next : attempt.sequence.length - attempt.missing.length);
  }
  return Math.min(done, TOP_TIER);
}

// The keys a new source's knock on which startFirstSteps decides: no trap port, every door on
// the key static, in order, for any destination, with more than one step where it starts
// there (a one-step door completes at once), and few enough doors for a mask.
function firstStepPlans(index: ReadonlyMap<number, KnockDoor[]>, trapKeys: ReadonlySet<number>): Map<number, FirstStepPlan> {
  const plans = new Map<number, FirstStepPlan>();
  for (const [key, doors] of index) {
    if (trapKeys.has(key) || doors.length > MASK_DOORS) continue;
    const lengths = doors.map(({ door, kind }) => {
      if (!(kind instanceof StaticKind) || door.order !== 'sequence' || door.destination !== undefined) return -1;
      const sequence = kind.expected()[0] as Sequence;
      return !isStep(sequence[0], key) ? 0 : sequence.length > 1 ? sequence.length : -1;
    });
    if (lengths.every((length) => length >= 0)) plans.set(key, { doors, lengths });
  }
  return plans;
}

// The bits of `doors` among the doors on a port, or undefined when the port has more doors
// than a mask has bits: what reads an entry goes over every door on its port, and a bit past
// the 32nd would wrap around to the first (such a port's sources are kept as full states).
function maskOf(doors: readonly KnockDoor[], doorsHere: readonly KnockDoor[]): number | undefined {
  if (doorsHere.length > MASK_DOORS) return undefined;
  let mask = 0;
  for (const door of doors) {
    const bit = doorsHere.indexOf(door);
    if (bit === -1) return undefined;
    mask |= 1 << bit;
  }
  return mask >>> 0;
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

