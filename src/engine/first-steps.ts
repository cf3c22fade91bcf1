import { addressToWords, wordsToAddress } from './address-words.js';
import { hashWords, newHashSeed } from './word-hash.js';

// Sources whose only knock so far started attempts (one first step, static doors): the
// state a spoofed flood on a first knock port creates by the million. Kept in typed arrays,
// ~53 bytes a source with its index and no object, string or reference into a log chunk: a
// ring in arrival order (the oldest goes when it is full, O(1)) with an open-addressing
// index by address. A source that knocks again leaves the table for a full state (engine.ts).
//
// The arrays grow by half up to `capacity` as entries accumulate, so memory follows what is
// held at once (a flood of 50,000 new sources a second with 5 s doors holds ~300,000), not
// the cap; by half, not by doubling, since the old arrays live on until the next garbage
// collection (a flood peaked 15 MB lower). Growing copies the ring in order, holes included:
// when the table is full, and which entry is the oldest, never depends on its size in memory.

// The first allocation, in slots.
const MIN_SLOTS = 4096;

// An address's words on their way in (a source that is no canonical address has none).
const incoming = new Uint32Array(4);

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
  private readonly seed = newHashSeed();
  // Slots in the arrays (at most capacity).
  private allocated = 0;
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
    return this.findWords(incoming, addressToWords(src, incoming, 0));
  }

  // The slot of the address with these words (address-words.ts; family 0: none), or -1.
  findWords(words: Uint32Array, family: number): number {
    if (this.live === 0 || family === 0) return -1;
    for (let bucket = this.hash(words, 0, family); ; bucket = (bucket + 1) & this.indexMask) {
      const slot = (this.index[bucket] as number) - 1;
      if (slot === -1) return -1;
      if (this.holds(slot, words, family)) return slot;
    }
  }

  // Adds a source that is not in the table (the caller makes room first); returns its slot,
  // or -1 when its address has no canonical form to keep it as.
  add(src: string, start: number, key: number, spt: number, mask: number): number {
    return this.addWords(incoming, addressToWords(src, incoming, 0), start, key, spt, mask);
  }

  // add() for an address already read into words (family 0: none).
  addWords(words: Uint32Array, family: number, start: number, key: number, spt: number, mask: number): number {
    if (family === 0) return -1;
    if (this.used === this.allocated) this.grow();
    const slot = (this.head + this.used) % this.allocated;
    // Four stores: TypedArray.prototype.set costs a call for each entry.
    for (let i = 0; i < 4; i++) this.words[slot * 4 + i] = words[i] as number;
    this.family[slot] = family;
    this.startTime[slot] = start;
    this.synTime[slot] = start;
    this.keys[slot] = key;
    this.ports[slot] = spt;
    this.masks[slot] = mask;
    this.insert(slot, family);
    this.used++;
    this.live++;
    return slot;
  }

  remove(slot: number): void {
    this.unindex(slot);
    this.family[slot] = 0;
    this.live--;
    while (this.used > 0 && this.family[this.head] === 0) {
      this.head = (this.head + 1) % this.allocated;
      this.used--;
    }
  }

  // Live slots, oldest first.
  *slots(): Generator<number> {
    for (let i = 0; i < this.used; i++) {
      const slot = (this.head + i) % this.allocated;
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

  // Half as many slots again (up to capacity): the ring is copied in order from the head,
  // which becomes slot 0, and the index is built anew. Untouched pages of a typed array cost
  // no memory, so only what is used counts. Every array is a view of one buffer: a grow leaves
  // one block for the collector, which the allocator maps and unmaps whole (arrays of their
  // own were each small enough to be carved from malloc's heap, and freed there for good).
  private grow(): void {
    const slots = Math.min(this.capacity, Math.max(MIN_SLOTS, Math.ceil(this.allocated * 1.5)));
    let buckets = 2;
    while (buckets < slots * 2) buckets *= 2;
    // 8-byte fields first, the single bytes last: every view starts aligned.
    const buffer = new ArrayBuffer(slots * 16 + slots * 16 + slots * 12 + buckets * 4 + slots);
    const startTime = new Float64Array(buffer, 0, slots);
    const synTime = new Float64Array(buffer, slots * 8, slots);
    const words = new Uint32Array(buffer, slots * 16, slots * 4);
    const fours = slots * 16 + slots * 16;
    const keys = new Uint32Array(buffer, fours, slots);
    const ports = new Int32Array(buffer, fours + slots * 4, slots);
    const masks = new Uint32Array(buffer, fours + slots * 8, slots);
    this.index = new Int32Array(buffer, fours + slots * 12, buckets);
    const family = new Uint8Array(buffer, fours + slots * 12 + buckets * 4, slots);
    const old = this.startTime.buffer;
    // The ring is at most two runs: from the head to the end of the arrays, then from slot 0.
    const first = Math.min(this.used, this.allocated - this.head);
    const runs = [[this.head, first], [0, this.used - first]] as const;
    this.words = unwrap(this.words, words, runs, 4);
    this.family = unwrap(this.family, family, runs, 1);
    this.startTime = unwrap(this.startTime, startTime, runs, 1);
    this.synTime = unwrap(this.synTime, synTime, runs, 1);
    this.keys = unwrap(this.keys, keys, runs, 1);
    this.ports = unwrap(this.ports, ports, runs, 1);
    this.masks = unwrap(this.masks, masks, runs, 1);
    this.allocated = slots;
    this.head = 0;
    this.indexMask = buckets - 1;
    for (let slot = 0; slot < this.used; slot++) {
      if (this.family[slot] !== 0) this.insert(slot, this.family[slot] as number);
    }
    // The old block goes to a new buffer nothing keeps (a move, not a copy), which the next
    // minor collection frees: the old buffer itself has lived long enough to wait for a full
    // collection, and a flood's grows left ~40 MB of them waiting.
    structuredClone(old, { transfer: [old] });
  }

  // Puts a slot into the index, at the first free bucket from its hash on.
  private insert(slot: number, family: number): void {
    let bucket = this.hash(this.words, slot * 4, family);
    while (this.index[bucket] !== 0) bucket = (bucket + 1) & this.indexMask;
    this.index[bucket] = slot + 1;
  }

  // The bucket an address's words (at `at` in `words`) start probing from.
  private hash(words: Uint32Array, at: number, family: number): number {
    return hashWords(this.seed, words, at, family) & this.indexMask;
  }

  // Whether `slot` holds the address with these words. The last word first: IPv4 has only
  // that one, and most slots a probe meets differ there.
  private holds(slot: number, words: Uint32Array, family: number): boolean {
    const w = this.words;
    const at = slot * 4;
    return w[at + 3] === words[3] && w[at + 2] === words[2] && w[at + 1] === words[1] && w[at] === words[0] && this.family[slot] === family;
  }

  // Takes a slot out of the index, moving later entries of its probe run back (no tombstones).
  private unindex(slot: number): void {
    let bucket = this.hash(this.words, slot * 4, this.family[slot] as number);
    while (this.index[bucket] !== slot + 1) bucket = (bucket + 1) & this.indexMask;
    let hole = bucket;
    for (let next = (hole + 1) & this.indexMask; this.index[next] !== 0; next = (next + 1) & this.indexMask) {
      const moved = (this.index[next] as number) - 1;
      const home = this.hash(this.words, moved * 4, this.family[moved] as number);
      // `moved` may fill the hole unless its home lies cyclically in (hole, next].
      if (((next - home) & this.indexMask) >= ((next - hole) & this.indexMask)) {
        this.index[hole] = moved + 1;
        hole = next;
      }
    }
    this.index[hole] = 0;
  }
}

// `from`'s ring positions, `width` elements a slot, in order at the start of `to`: each run
// ([slot, count]) copied whole.
function unwrap<T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(from: T, to: T, runs: readonly (readonly [number, number])[], width: number): T {
  let at = 0;
  for (const [slot, count] of runs) {
    to.set(from.subarray(slot * width, (slot + count) * width), at);
    at += count * width;
  }
  return to;
}
