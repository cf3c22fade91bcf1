import { ownCopy } from './own-copy.js';

// What eviction weighs: 0 nothing in progress (a trap period, SYNs remembered for
// retransmissions), 1 one step done, 2 two, 3 three or more.
export const TOP_TIER = 3;

export interface TierNode {
  readonly src: string;
  tier: number;
  prev: TierNode | undefined;
  next: TierNode | undefined;
}

// Sources by address, and per tier a list from the least to the most recently moved on:
// the source to evict is the head of the lowest tier that has one, so a flood of sources
// with one step done never pushes out a source further along. Every operation is O(1).
export class SourceTiers<Node extends TierNode> {
  private readonly bySrc = new Map<string, Node>();
  private readonly heads: (Node | undefined)[] = new Array<Node | undefined>(TOP_TIER + 1).fill(undefined);
  private readonly tails: (Node | undefined)[] = new Array<Node | undefined>(TOP_TIER + 1).fill(undefined);

  get size(): number {
    return this.bySrc.size;
  }

  // Asked for every knock: with nothing tracked (a flood of new sources), the address is not
  // even hashed.
  get(src: string): Node | undefined {
    if (this.bySrc.size === 0) return undefined;
    return this.bySrc.get(src);
  }

  // In no particular order; deleting or moving the current node while iterating is safe.
  values(): IterableIterator<Node> {
    return this.bySrc.values();
  }

  // Lowest tier first, least recently moved on first within a tier.
  *[Symbol.iterator](): Generator<Node> {
    for (let tier = 0; tier <= TOP_TIER; tier++) {
      for (let node = this.heads[tier]; node !== undefined; node = node.next as Node | undefined) yield node;
    }
  }

  // Builds a node keyed by a copy of `src` (see own-copy.ts) and adds it at the young end of its tier.
  add(src: string, tier: number, build: (src: string) => Node): Node {
    const node = build(ownCopy(src));
    node.tier = tier;
    this.bySrc.set(node.src, node);
    this.link(node);
    return node;
  }

  // Moves a node to the young end of `tier`.
  touch(node: Node, tier: number): void {
    this.unlink(node);
    node.tier = tier;
    this.link(node);
  }

  delete(node: Node): void {
    this.unlink(node);
    this.bySrc.delete(node.src);
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
