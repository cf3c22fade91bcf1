import { describe as group, expect, it } from 'vitest';
import { addressToWords } from '../../src/engine/address-words.js';
import { GONE, IN_TEXT, SourceIndex, type IndexedNode } from '../../src/engine/source-index.js';
import { seededRandom } from '../helpers/seeded-random.js';

interface Entry extends IndexedNode {
  readonly words: Uint32Array;
  readonly family: number;
}

const entry = (src: string): Entry => {
  const words = new Uint32Array(4);
  return { src, slot: GONE, words, family: addressToWords(src, words, 0) };
};
const add = (index: SourceIndex<Entry>, node: Entry): Entry => {
  index.add(node, node.words, node.family);
  return node;
};
const lookUp = (index: SourceIndex<Entry>, node: Entry) => index.get(node.src, node.words, node.family)?.src;

// The first allocation has 64 buckets. Each address's home bucket, learnt by adding it
// alone (its bucket is then its home) and deleting it again: per home, addresses in order.
function addressesByHome(index: SourceIndex<Entry>): Map<number, Entry[]> {
  const byHome = new Map<number, Entry[]>();
  for (let n = 1; n <= 2000; n++) {
    const node = add(index, entry(`10.0.${n >> 8}.${n & 255}`));
    byHome.set(node.slot, [...(byHome.get(node.slot) ?? []), node]);
    index.delete(node);
  }
  return byHome;
}

group('source index', () => {
  it('finds what was added, by words, and nothing after its delete', () => {
    const index = new SourceIndex<Entry>();
    const a = add(index, entry('198.51.100.7'));
    const b = add(index, entry('2001:db8::7'));
    expect([lookUp(index, a), lookUp(index, b), index.size]).toEqual(['198.51.100.7', '2001:db8::7', 2]);
    index.delete(a);
    expect([lookUp(index, a), lookUp(index, b), index.size, a.slot, index.has(a), index.has(b)]).toEqual([undefined, '2001:db8::7', 1, GONE, false, true]);
  });

  // Two keys are only compared when one lies in the other's probe run: per pair, keys whose
  // home buckets are at most 8 apart, with every bucket from one home to the other taken,
  // so that the first of them is met on the way to the second's home.
  it.each([
    ['word 0', (k: number) => [[2 * k, 0, 0, 7, 6], [2 * k + 1, 0, 0, 7, 6]]],
    ['word 1', (k: number) => [[0x20010db8, 2 * k, 0, 7, 6], [0x20010db8, 2 * k + 1, 0, 7, 6]]],
    ['word 2', (k: number) => [[0x20010db8, 0, 2 * k, 7, 6], [0x20010db8, 0, 2 * k + 1, 7, 6]]],
    ['word 3, IPv4', (k: number) => [[0, 0, 0, 2 * k, 4], [0, 0, 0, 2 * k + 1, 4]]],
    ['IPv4 and IPv6 with the same words', (k: number) => [[0, 0, 0, k, 4], [0, 0, 0, k, 6]]],
  ])('tells apart keys that differ in one thing only: %s', (_name, pair) => {
    const index = new SourceIndex<Entry>();
    const byHome = addressesByHome(index);
    const raw = (label: string, [w0, w1, w2, w3, family]: number[]): Entry => ({ src: label, slot: GONE, words: Uint32Array.of(w0 as number, w1 as number, w2 as number, w3 as number), family: family as number });
    const homeOf = (node: Entry): number => {
      const home = add(index, node).slot;
      index.delete(node);
      return home;
    };
    for (let k = 1; k <= 1000; k++) {
      const [first, second] = pair(k).map((key, n) => raw(`${n}`, key)) as [Entry, Entry];
      const [from, to] = [homeOf(first), homeOf(second)];
      const forward = (to - from) & 63;
      const span = forward <= 8 ? [from, forward] : ((from - to) & 63) <= 8 ? [to, (from - to) & 63] : undefined;
      if (span === undefined) continue;
      const [start, length] = span as [number, number];
      for (let i = 0; i <= length; i++) add(index, (byHome.get((start + i) & 63) as Entry[])[0] as Entry);
      add(index, first);
      expect([lookUp(index, first), lookUp(index, second)]).toEqual(['0', undefined]);
      add(index, second);
      expect([lookUp(index, first), lookUp(index, second)]).toEqual(['0', '1']);
      index.delete(first);
      expect([lookUp(index, first), lookUp(index, second)]).toEqual([undefined, '1']);
      return;
    }
    throw new Error('No pair of keys with homes within 8 buckets among 1,000.');
  });

  it('keeps a probe run that crosses the end of the table, and moves later entries back on a delete', () => {
    const index = new SourceIndex<Entry>();
    const byHome = addressesByHome(index);
    const [x, y, z] = byHome.get(63) as Entry[];
    const [w, v] = byHome.get(0) as Entry[];
    for (const node of [x, y, z, w, v] as Entry[]) add(index, node);
    // Home 63: x, y and z at 63, 0 and 1; home 0: w and v after them, at 2 and 3.
    expect([x, y, z, w, v].map((node) => node?.slot)).toEqual([63, 0, 1, 2, 3]);
    index.delete(x as Entry);
    // y back to its home, z after it; w and v one back each, v not before its home.
    expect([y, z, w, v].map((node) => node?.slot)).toEqual([63, 0, 1, 2]);
    expect([y, z, w, v].map((node) => lookUp(index, node as Entry))).toEqual([y, z, w, v].map((node) => node?.src));
    index.delete(z as Entry);
    expect([y, w, v].map((node) => node?.slot)).toEqual([63, 0, 1]);
    expect([y, w, v].map((node) => lookUp(index, node as Entry))).toEqual([y, w, v].map((node) => node?.src));
  });

  it('leaves an entry in place when the hole is before its home', () => {
    const index = new SourceIndex<Entry>();
    const byHome = addressesByHome(index);
    const [a, b] = byHome.get(10) as Entry[];
    const [c] = byHome.get(11) as Entry[];
    const [d] = byHome.get(13) as Entry[];
    for (const node of [a, b, c, d] as Entry[]) add(index, node);
    expect([a, b, c, d].map((node) => node?.slot)).toEqual([10, 11, 12, 13]);
    index.delete(a as Entry);
    // b to 10, c to its home 11; d stays at its home.
    expect([b, c, d].map((node) => node?.slot)).toEqual([10, 11, 13]);
  });

  it('grows past half full, keeping every entry', () => {
    const index = new SourceIndex<Entry>();
    const nodes = Array.from({ length: 200 }, (_, n) => add(index, entry(n % 3 === 0 ? `2001:db8::${(n + 1).toString(16)}` : `10.1.${n >> 8}.${n & 255}`)));
    expect(nodes.every((node) => lookUp(index, node) === node.src)).toBe(true);
    expect(Math.max(...nodes.map((node) => node.slot))).toBeGreaterThanOrEqual(256);
    expect(index.all().map((node) => node.src).sort()).toEqual(nodes.map((node) => node.src).sort());
  });

  it('keeps a source that is no canonical address by its text', () => {
    const index = new SourceIndex<Entry>();
    const odd = add(index, entry('10.0.0.01'));
    expect([odd.family, odd.slot, lookUp(index, odd), index.size, index.has(odd)]).toEqual([0, IN_TEXT, '10.0.0.01', 1, true]);
    index.delete(odd);
    expect([lookUp(index, odd), index.size, index.has(odd)]).toEqual([undefined, 0, false]);
  });

  // Against a Map: adds and deletes at random in a small address space, through growth.
  it('answers as a Map does through random adds and deletes', () => {
    const index = new SourceIndex<Entry>();
    const model = new Map<string, Entry>();
    const random = seededRandom(11);
    const problems: string[] = [];
    for (let step = 0; step < 20_000; step++) {
      const n = random(600);
      const src = n % 4 === 0 ? `2001:db8::${n.toString(16)}` : `10.2.${n >> 8}.${n & 255}`;
      const held = model.get(src);
      if (held === undefined) model.set(src, add(index, entry(src)));
      else if (random(3) > 0) {
        index.delete(held);
        model.delete(src);
      }
      const probe = entry(src);
      if (lookUp(index, probe) !== model.get(src)?.src || index.size !== model.size) problems.push(`step ${step}: ${src}`);
    }
    for (const node of model.values()) if (lookUp(index, node) !== node.src) problems.push(`end: ${node.src}`);
    expect(problems).toEqual([]);
  });
});
