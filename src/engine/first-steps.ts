import { randomBytes } from 'node:crypto';
import { addressToWords, wordsToAddress } from './address-words.js';

// Sources whose only knock so far started attempts (one first step, static doors): the
// state a spoofed flood on a first knock port creates by the million. Kept in typed arrays,
// ~45 bytes a source and no object, string or reference into a log chunk: a ring in arrival
// order (the oldest goes when it is full, O(1)) with an open-addressing index by address.
// A source that knocks again leaves the table for a full state (engine.ts).
export class FirstSteps {
  private words = new Uint32Array(0);
  private family = new Uint8Array(0);
  private startTime = new Float64Array(0);
  private synTime = new Float64Array(0);
  private keys = new Uint32Array(0);
  // The source port of a plain SYN (a retransmission of it is the same knock), or -1.
  private ports = new Int32Array(0);
  // Which of the doors on `key` (door-index order) the knock started.
  private masks = new Uint32Array(0);
  // Slot + 1 per hash bucket, 0 when empty; linear probing.
  private index = new Int32Array(0);
  private indexMask = 0;
  // A random hash seed: addresses are chosen by whoever sends the packets.
  private readonly seed = randomBytes(4).readUInt32LE(0);
  private head = 0;
  // Slots from the head on that are in use, holes (sources gone) included.
  private used = 0;
  private live = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.live;
  }

  get full(): boolean {
    return this.used === this.capacity;
  }

  // The oldest source's slot (the table is not empty).
  get oldest(): number {
    return this.head;
  }

  // The slot of `src`, or -1.
  find(src: string): number {
    if (this.live === 0) return -1;
    const scratch = this.capacity;
    const family = addressToWords(src, this.words, scratch * 4);
    if (family === 0) return -1;
    for (let bucket = this.hash(scratch, family); ; bucket = (bucket + 1) & this.indexMask) {
      const slot = (this.index[bucket] as number) - 1;
      if (slot === -1) return -1;
      if (this.sameAddress(slot, scratch, family)) return slot;
    }
  }

  // Adds a source that is not in the table (the caller makes room first); returns its slot,
  // or -1 when its address has no canonical form to keep it as.
  add(src: string, start: number, key: number, spt: number, mask: number): number {
    if (this.words.length === 0) this.allocate();
    const slot = (this.head + this.used) % this.capacity;
    const family = addressToWords(src, this.words, slot * 4);
    if (family === 0) return -1;
    this.family[slot] = family;
    this.startTime[slot] = start;
    this.synTime[slot] = start;
    this.keys[slot] = key;
    this.ports[slot] = spt;
    this.masks[slot] = mask;
    let bucket = this.hash(slot, family);
    while (this.index[bucket] !== 0) bucket = (bucket + 1) & this.indexMask;
    this.index[bucket] = slot + 1;
    this.used++;
    this.live++;
    return slot;
  }

  remove(slot: number): void {
    this.unindex(slot);
    this.family[slot] = 0;
    this.live--;
    while (this.used > 0 && this.family[this.head] === 0) {
      this.head = (this.head + 1) % this.capacity;
      this.used--;
    }
  }

  // Live slots, oldest first.
  *slots(): Generator<number> {
    for (let i = 0; i < this.used; i++) {
      const slot = (this.head + i) % this.capacity;
      if (this.family[slot] !== 0) yield slot;
    }
  }

  src(slot: number): string {
    return wordsToAddress(this.words, slot * 4, this.family[slot] as number);
  }

  start(slot: number): number {
    return this.startTime[slot] as number;
  }

  key(slot: number): number {
    return this.keys[slot] as number;
  }

  mask(slot: number): number {
    return this.masks[slot] as number;
  }

  spt(slot: number): number {
    return this.ports[slot] as number;
  }

  lastSyn(slot: number): number {
    return this.synTime[slot] as number;
  }

  // The first SYN came again (a retransmission): its window starts again from `time`.
  retransmitted(slot: number, time: number): void {
    this.synTime[slot] = time;
  }

  // Lazily, all at once: untouched pages of a typed array cost no memory, so a table that
  // never fills stays small, and a full one never copies itself to grow.
  private allocate(): void {
    const slots = this.capacity;
    this.words = new Uint32Array((slots + 1) * 4);
    this.family = new Uint8Array(slots);
    this.startTime = new Float64Array(slots);
    this.synTime = new Float64Array(slots);
    this.keys = new Uint32Array(slots);
    this.ports = new Int32Array(slots);
    this.masks = new Uint32Array(slots);
    let buckets = 2;
    while (buckets < slots * 2) buckets *= 2;
    this.index = new Int32Array(buckets);
    this.indexMask = buckets - 1;
  }

  private hash(slot: number, family: number): number {
    let h = this.seed ^ family;
    for (let i = 0; i < 4; i++) {
      h = Math.imul(h ^ (this.words[slot * 4 + i] as number), 0x9e3779b1);
      h ^= h >>> 15;
    }
    return h & this.indexMask;
  }

  private sameAddress(slot: number, other: number, family: number): boolean {
    const w = this.words;
    return this.family[slot] === family && w[slot * 4] === w[other * 4] && w[slot * 4 + 1] === w[other * 4 + 1]
      && w[slot * 4 + 2] === w[other * 4 + 2] && w[slot * 4 + 3] === w[other * 4 + 3];
  }

  // Takes a slot out of the index, moving later entries of its probe run back (no tombstones).
  private unindex(slot: number): void {
    let bucket = this.hash(slot, this.family[slot] as number);
    while (this.index[bucket] !== slot + 1) bucket = (bucket + 1) & this.indexMask;
    let hole = bucket;
    for (let next = (hole + 1) & this.indexMask; this.index[next] !== 0; next = (next + 1) & this.indexMask) {
      const moved = (this.index[next] as number) - 1;
      const home = this.hash(moved, this.family[moved] as number);
      // `moved` may fill the hole unless its home lies cyclically in (hole, next].
      if (((next - home) & this.indexMask) >= ((next - hole) & this.indexMask)) {
        this.index[hole] = moved + 1;
        hole = next;
      }
    }
    this.index[hole] = 0;
  }
}
