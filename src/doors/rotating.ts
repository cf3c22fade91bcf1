import { createHmac } from 'node:crypto';
import type { Door, DoorStep, PortRange, RotatingSpec, StepProtocol, WindowRecords } from '../config/types.js';
import { normalizeAddress } from '../net/address.js';
import type { DoorKind, Refusal, Sequence } from './door-kind.js';
import { md5HourSequence } from './md5-hour.js';
import { WindowLedger } from './window-ledger.js';

export interface DeriveInput {
  secret: Uint8Array;
  door: string;
  // Epoch seconds, UTC: floor(time / rotate) × rotate.
  windowStart: number;
  range: PortRange;
  length: number;
  protocols: readonly StepProtocol[];
  // The knocking address, for bind_source doors (the client's public address behind NAT).
  source?: string | undefined;
  // Ports of the range the door never uses (the server's other doors and trap ports).
  exclude?: readonly number[] | undefined;
}

// The steps of a `derive = hmac` door for one window: `length` distinct ports of the range
// (without `exclude`), each with a protocol when there is a choice. The bytes are
// HMAC-SHA256(secret, door NUL windowStart [NUL source] NUL block), block 0, 1, ...
// concatenated; each pick takes the next 32-bit big-endian number, drawn again when it
// falls in the uneven top of 2^32 so every choice is equally likely.
export function deriveSequence(input: DeriveInput): DoorStep[] {
  const excluded = new Set(input.exclude ?? []);
  const ports: number[] = [];
  for (let port = input.range.low; port <= input.range.high; port++) if (!excluded.has(port)) ports.push(port);
  if (ports.length < input.length) throw new RangeError(`${ports.length} usable ports in the range, fewer than ${input.length} steps`);
  const protocols = [...new Set(input.protocols)].sort();
  const source = input.source === undefined ? undefined : normalizeAddress(input.source) ?? input.source;
  const numbers = hmacNumbers(input.secret, `${input.door}\0${input.windowStart}${source === undefined ? '' : `\0${source}`}`);
  const steps: DoorStep[] = [];
  for (let index = 0; index < input.length; index++) {
    // Distinct ports: each pick is among the ports not taken yet.
    const [port] = ports.splice(uniform(numbers, ports.length), 1) as [number];
    const proto = protocols.length === 1 ? (protocols[0] as StepProtocol) : (protocols[uniform(numbers, protocols.length)] as StepProtocol);
    steps.push({ port, proto });
  }
  return steps;
}

// floor(time / rotate) × rotate, in epoch seconds; `time` in ms, `rotate` in seconds.
export function windowStartOf(time: number, rotate: number): number {
  return Math.floor(time / 1000 / rotate) * rotate;
}

// When the next window of any rotating door turns (ms), for the doors whose logged ports
// turn with it (not bound to the source); Infinity when none.
export function nextWindowTurn(doors: readonly Door[], now: number): number {
  let next = Infinity;
  for (const { knock } of doors) {
    if (knock.kind === 'rotating' && !knock.bindSource) next = Math.min(next, (windowStartOf(now, knock.rotate) + knock.rotate) * 1000);
  }
  return next;
}

function* hmacNumbers(secret: Uint8Array, message: string): Generator<number, never> {
  for (let block = 0; ; block++) {
    const bytes = createHmac('sha256', secret).update(`${message}\0${block}`).digest();
    for (let offset = 0; offset < bytes.length; offset += 4) yield bytes.readUInt32BE(offset);
  }
}

function uniform(numbers: Generator<number, never>, n: number): number {
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (;;) {
    const value = numbers.next().value;
    if (value < limit) return value % n;
  }
}

// How many windows' sequences are kept derived (a bound door derives per address, unkept).
const KEPT_WINDOWS = 16;

// A door whose sequence turns with the time window: what a window expects is derived from
// the door's secret (hmac or md5-hour), knocks are accepted for the current window and
// `skew` windows either side, and once_per_window burns a window for the address that used it.
export class RotatingKind implements DoorKind {
  private readonly kept = new Map<number, Sequence>();
  private readonly records: WindowRecords;

  private readonly door: string;

  constructor(private readonly spec: RotatingSpec) {
    this.door = spec.door;
    this.records = spec.records ?? new WindowLedger();
  }

  expected(src: string, time: number): readonly Sequence[] {
    const windows = this.acceptedAround(time);
    // The same sequence in two windows (possible, if unlikely) is one attempt, not two; with
    // once_per_window, a sequence one of them burnt for `src` is expected in neither.
    const seen = new Set<string>();
    if (this.spec.oncePerWindow) {
      for (const window of windows) if (this.records.burnt(this.door, src, window)) seen.add(sequenceKey(this.sequenceOf(window, src)));
    }
    const found: Sequence[] = [];
    for (const window of windows) {
      const sequence = this.sequenceOf(window, src);
      const key = sequenceKey(sequence);
      if (seen.has(key)) continue;
      seen.add(key);
      found.push(sequence);
    }
    return found;
  }

  // Every port of the range not excluded, with every protocol: the engine's pre-filter.
  steps(): readonly DoorStep[] {
    const excluded = new Set(this.spec.exclude);
    const steps: DoorStep[] = [];
    for (let port = this.spec.range.low; port <= this.spec.range.high; port++) {
      if (!excluded.has(port)) for (const proto of this.spec.protocols) steps.push({ port, proto });
    }
    return steps;
  }

  // What the firewall must log at `time`: the steps of the accepted windows; every step for a
  // door bound to the source, whose sequences differ per address.
  stepsAt(time: number): readonly DoorStep[] {
    if (this.spec.bindSource) return this.steps();
    const steps = new Map<string, DoorStep>();
    for (const window of this.windowsAround(time)) for (const step of this.sequenceOf(window, undefined)) steps.set(`${step.proto}/${step.port}`, step);
    return [...steps.values()];
  }

  // When what stepsAt() gives next changes (ms): the next window start.
  nextTurn(time: number): number {
    return (windowStartOf(time, this.spec.rotate) + this.spec.rotate) * 1000;
  }

  // The sequence of the window `offset` windows from the one at `time` (for `check`).
  sequenceAt(time: number, offset: number, src?: string): Sequence {
    return this.sequenceOf(windowStartOf(time, this.spec.rotate) + offset * this.spec.rotate, src);
  }

  // 'window-gone' when no window accepted at `time` has the sequence (an attempt started in
  // time whose window turned out of skew meanwhile). once_per_window: every accepted window
  // with this sequence is burnt for `src`; 'window-used' when one of them already was (a
  // sequence equal in two windows must not open twice: what was recorded in one would open
  // again in the other).
  completed(sequence: Sequence, src: string, time: number): Refusal | undefined {
    const key = sequenceKey(sequence);
    const windows = this.acceptedAround(time).filter((window) => sequenceKey(this.sequenceOf(window, src)) === key);
    if (windows.length === 0) return 'window-gone';
    if (!this.spec.oncePerWindow) return undefined;
    if (windows.some((window) => this.records.burnt(this.door, src, window))) return 'window-used';
    const until = (windowStartOf(time, this.spec.rotate) + (this.spec.skew + 1) * this.spec.rotate) * 1000;
    for (const window of windows) this.records.burn(this.door, src, window, Math.max(until, (window + (this.spec.skew + 1) * this.spec.rotate) * 1000));
    return undefined;
  }

  // The windows a knock at `time` may use: those around it, none older than the latest
  // window the door ever had as current minus skew. A clock gone back (across a restart
  // too: the daemon's records are in the state file) never revives an old window, whose
  // sequence may have been seen.
  private acceptedAround(time: number): number[] {
    const latest = this.records.current(this.door, windowStartOf(time, this.spec.rotate), this.spec.rotate);
    const oldest = latest - this.spec.skew * this.spec.rotate;
    return this.windowsAround(time).filter((window) => window >= oldest);
  }

  private windowsAround(time: number): number[] {
    const current = windowStartOf(time, this.spec.rotate);
    const windows: number[] = [];
    for (let offset = -this.spec.skew; offset <= this.spec.skew; offset++) windows.push(current + offset * this.spec.rotate);
    return windows;
  }

  private sequenceOf(window: number, src: string | undefined): Sequence {
    const spec = this.spec;
    if (spec.derive === 'md5-hour') return this.keep(window, () => md5HourSequence(spec.secret.reveal().toString('utf8'), window, spec.range));
    const derive = (source: string | undefined): Sequence => deriveSequence({
      secret: spec.secret.reveal(), door: this.door, windowStart: window, range: spec.range, length: spec.length,
      protocols: spec.protocols, source, exclude: spec.exclude,
    });
    return spec.bindSource ? derive(src) : this.keep(window, () => derive(undefined));
  }

  private keep(window: number, derive: () => Sequence): Sequence {
    let sequence = this.kept.get(window);
    if (sequence === undefined) {
      sequence = derive();
      if (this.kept.size >= KEPT_WINDOWS) this.kept.delete(this.kept.keys().next().value as number);
      this.kept.set(window, sequence);
    }
    return sequence;
  }
}

function sequenceKey(sequence: Sequence): string {
  return sequence.map((step) => `${step.port}/${step.proto}`).join(',');
}
