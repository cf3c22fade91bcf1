import { hashWords, newHashSeed } from './word-hash.js';

export interface IndexedNode {
  readonly src: string;
  // Its bucket in the index; IN_TEXT when kept by its text, GONE once deleted.
  slot: number;
}

export const IN_TEXT = -1;
export const GONE = -2;

// The first allocation, in buckets (a power of two).
const MIN_BUCKETS = 64;

// Nodes by source address, keyed by the address's words (address-words.ts), which the
// engine reads once per knock: a Map keyed by the text hashed every knock's fresh string and
// followed each key's pointer to compare it. Open addressing with linear probing; each
// bucket holds the words and family inline and its node, which knows its bucket, so a
// delete needs no lookup. At most half the buckets are in use (doubling past that), and a
// delete moves later entries of its probe run back instead of leaving a tombstone. A source
// whose text is no canonical address has no words: the rare such node is kept by its text.
export class SourceIndex<Node extends IndexedNode> {
  private words = new Uint32Array(MIN_BUCKETS * 4);
  // 4 or 6 per bucket, 0 when empty.
  private family = new Uint8Array(MIN_BUCKETS);
  private nodes: (Node | undefined)[] = new Array<Node | undefined>(MIN_BUCKETS).fill(undefined);
  private mask = MIN_BUCKETS - 1;
  private count = 0;
  private readonly byText = new Map<string, Node>();
  private readonly seed = newHashSeed();

  get size(): number {
    return this.count + this.byText.size;
  }

  // The node of the address with these words (family 0: none, then by its text `src`).
  get(src: string, words: Uint32Array, family: number): Node | undefined {
    if (family === 0) return this.byText.get(src);
    const w = this.words;
    for (let bucket = hashWords(this.seed, words, 0, family) & this.mask; ; bucket = (bucket + 1) & this.mask) {
      const held = this.family[bucket] as number;
      if (held === 0) return undefined;
      // The last word first: IPv4 has only that one, and most buckets a probe meets differ there.
      const at = bucket * 4;
      if (w[at + 3] === words[3] && w[at + 2] === words[2] && w[at + 1] === words[1] && w[at] === words[0] && held === family) return this.nodes[bucket];
    }
  }

  // Adds a node whose address (these words, or its text when family is 0) is not held yet.
  add(node: Node, words: Uint32Array, family: number): void {
    if (family === 0) {
      node.slot = IN_TEXT;
      this.byText.set(node.src, node);
      return;
    }
    if ((this.count + 1) * 2 > this.nodes.length) this.grow();
    this.place(node, words, 0, family);
    this.count++;
  }

  delete(node: Node): void {
    if (node.slot === IN_TEXT) this.byText.delete(node.src);
    else this.unplace(node.slot);
    node.slot = GONE;
  }

  // Whether the node is held (it was added and not deleted since: delete marks it GONE).
  has(node: Node): boolean {
    return node.slot !== GONE;
  }

  // Every node held, in no particular order.
  all(): Node[] {
    const all: Node[] = [];
    for (const node of this.nodes) if (node !== undefined) all.push(node);
    for (const node of this.byText.values()) all.push(node);
    return all;
  }

  // Puts a node at the first free bucket from its words' hash on.
  private place(node: Node, words: Uint32Array, at: number, family: number): void {
    let bucket = hashWords(this.seed, words, at, family) & this.mask;
    while (this.family[bucket] !== 0) bucket = (bucket + 1) & this.mask;
    this.fill(bucket, node, words, at, family);
  }

  private fill(bucket: number, node: Node, words: Uint32Array, at: number, family: number): void {
    // Four stores: TypedArray.prototype.set costs a call for each entry.
    for (let i = 0; i < 4; i++) this.words[bucket * 4 + i] = words[at + i] as number;
    this.family[bucket] = family;
    this.nodes[bucket] = node;
    node.slot = bucket;
  }

  // Empties a bucket, moving later entries of its probe run back into the hole when their
  // home bucket allows it, so that every entry stays reachable from its home.
  private unplace(bucket: number): void {
    let hole = bucket;
    for (let next = (hole + 1) & this.mask; this.family[next] !== 0; next = (next + 1) & this.mask) {
      const family = this.family[next] as number;
      const home = hashWords(this.seed, this.words, next * 4, family) & this.mask;
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      if (((next - home) & this.mask) >= ((next - hole) & this.mask)) {
        this.fill(hole, this.nodes[next] as Node, this.words, next * 4, family);
        hole = next;
      }
    }
    this.family[hole] = 0;
    this.nodes[hole] = undefined;
    this.count--;
  }

  // Twice the buckets, every entry placed again.
  private grow(): void {
    const { words, family, nodes } = this;
    const buckets = nodes.length * 2;
    this.words = new Uint32Array(buckets * 4);
    this.family = new Uint8Array(buckets);
    this.nodes = new Array<Node | undefined>(buckets).fill(undefined);
    this.mask = buckets - 1;
    for (let bucket = 0; bucket < nodes.length; bucket++) {
      const node = nodes[bucket];
      if (node !== undefined) this.place(node, words, bucket * 4, family[bucket] as number);
    }
  }
}
