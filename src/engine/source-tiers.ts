import { addressToWords } from './address-words.js';
import { ownCopy } from './own-copy.js';
import { SourceIndex, type IndexedNode } from './source-index.js';

// What eviction weighs: 0 nothing in progress (a trap period, SYNs remembered for
// retransmissions), 1 one step done, 2 two, 3 three or more.
export const TOP_TIER = 3;

// The words of an address given as text, on their way in.
const textWords = new Uint32Array(4);

export interface TierNode extends IndexedNode {
  tier: number;
  prev: TierNode | undefined;
  next: TierNode | undefined;
}

// Sources by address, and per tier a list from the least to the most recently moved on:
// the source to evict is the head of the lowest tier that has one, so a flood of sources
// with one step done never pushes out a source further along. Every operation is O(1).
// Addresses come as words (address-words.ts; family 0: none) where the caller has them.
export class SourceTiers<Node extends TierNode> {
  private readonly bySrc = new SourceIndex<Node>();
  private readonly heads: (Node | undefined)[] = new Array<Node | undefined>(TOP_TIER + 1).fill(undefined);
  private readonly tails: (Node | undefined)[] = new Array<Node | undefined>(TOP_TIER + 1).fill(undefined);

  get size(): number {
    return this.bySrc.size;
  }

  get(src: string, words: Uint32Array, family: number): Node | undefined {
    return this.bySrc.get(src, words, family);
  }

  // get() for a caller that has only the text.
  find(src: string): Node | undefined {
    return this.bySrc.get(src, textWords, addressToWords(src, textWords, 0));
  }

  // Whether the node is tracked (added and not deleted since).
  has(node: Node): boolean {
    return this.bySrc.has(node);
  }

  // A copy, in no particular order.
  values(): Node[] {
    return this.bySrc.all();
  }

  // Lowest tier first, least recently moved on first within a tier.
  *[Symbol.iterator](): Generator<Node> {
    for (let tier = 0; tier <= TOP_TIER; tier++) {
      for (let node = this.heads[tier]; node !== undefined; node = node.next as Node | undefined) yield node;
    }
  }

  // Builds a node keyed by a copy of `src` (see own-copy.ts), whose words these are, and adds
  // it at the young end of its tier.
  add(src: string, words: Uint32Array, family: number, tier: number, build: (src: string) => Node): Node {
    const node = build(ownCopy(src));
    node.tier = tier;
    this.bySrc.add(node, words, family);
    this.link(node);
    return node;
  }

  // add() for a caller that has only the text.
  addText(src: string, tier: number, build: (src: string) => Node): Node {
    return this.add(src, textWords, addressToWords(src, textWords, 0), tier, build);
  }

  // Moves a node to the young end of `tier`.
  touch(node: Node, tier: number): void {
    this.unlink(node);
    node.tier = tier;
    this.link(node);
  }

  delete(node: Node): void {
    this.unlink(node);
    this.bySrc.delete(node);
  }

  // The node eviction takes next, or undefined when empty.
  victim(): Node | undefined {
    for (let tier = 0; tier <= TOP_TIER; tier++) {
      const head = this.heads[tier];
      if (head !== undefined) return head;
    }
    return undefined;
  }

  private link(node: Node): void {
    const tail = this.tails[node.tier];
    node.prev = tail;
    node.next = undefined;
    if (tail === undefined) this.heads[node.tier] = node;
    else tail.next = node;
    this.tails[node.tier] = node;
  }

  private unlink(node: Node): void {
    if (node.prev === undefined) this.heads[node.tier] = node.next as Node | undefined;
    else node.prev.next = node.next;
    if (node.next === undefined) this.tails[node.tier] = node.prev as Node | undefined;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
  }
}
