import { describe, expect, it } from 'vitest';
import { AgingMap } from '../../src/access/aging-map.js';

type Op = ['set', number, number] | ['delete', number] | ['evict'];

// What a plain Map says is oldest: its first key.
function modelOldest(model: Map<number, { v: number }>): number | undefined {
  for (const key of model.keys()) return key;
  return undefined;
}

describe('AgingMap', () => {
  it.each<[string, Op[], number | undefined, number[]]>([
    // Set order, and a key set again becomes the newest.
    ['set order', [['set', 1, 1], ['set', 2, 2], ['set', 3, 3]], 1, [1, 2, 3]],
    ['a key set again', [['set', 1, 1], ['set', 2, 2], ['set', 1, 3]], 2, [2, 1]],
    // Deleted and evicted keys are passed over.
    ['the oldest deleted', [['set', 1, 1], ['set', 2, 2], ['delete', 1]], 2, [2]],
    ['evicted twice', [['set', 1, 1], ['set', 2, 2], ['set', 3, 3], ['evict'], ['evict']], 3, [3]],
    ['emptied', [['set', 1, 1], ['delete', 1]], undefined, []],
  ])('%s', (_name, ops, oldest, keys) => {
    const map = new AgingMap<number, { v: number }>();
    const values = new Map<number, { v: number }>();
    const value = (v: number): { v: number } => values.get(v) ?? values.set(v, { v }).get(v) as { v: number };
    for (const op of ops) {
      if (op[0] === 'set') map.set(op[1], value(op[2]));
      else if (op[0] === 'delete') map.delete(op[1]);
      else map.delete(map.oldestKey() as number);
    }
    expect([map.oldestKey(), [...map].map(([key]) => key), map.size]).toEqual([oldest, keys, keys.length]);
  });

  // Long runs of sets, deletes and evictions at a cap, so the queue is passed over and made
  // again many times: the oldest key is always a plain Map's first, and the queue stays within
  // twice the entries (plus 1,024) instead of keeping every value ever set.
  it('finds the oldest key as a Map does, over 200,000 seeded random operations', () => {
    // xorshift32, seeded
    let state = 7;
    const random = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const map = new AgingMap<number, { v: number }>();
    const model = new Map<number, { v: number }>();
    const queue = map as unknown as { queuedKeys: unknown[] };
    let longestQueue = 0;
    const mismatches: string[] = [];
    for (let i = 0; i < 200_000 && mismatches.length < 3; i++) {
      const key = random(3000);
      const roll = random(1000);
      if (roll < 600) {
        const value = { v: i };
        map.set(key, value);
        longestQueue = Math.max(longestQueue, queue.queuedKeys.length);
        model.delete(key);
        model.set(key, value);
      } else if (roll < 800) {
        map.delete(key);
        model.delete(key);
      }
      while (model.size > 1000) {
        const oldest = modelOldest(model) as number;
        if (map.oldestKey() !== oldest) mismatches.push(`op ${i}: ${String(map.oldestKey())} instead of ${oldest}`);
        map.delete(oldest);
        model.delete(oldest);
      }
      if (map.oldestKey() !== modelOldest(model)) mismatches.push(`op ${i}: ${String(map.oldestKey())} instead of ${String(modelOldest(model))}`);
    }
    expect([mismatches, map.size]).toEqual([[], model.size]);
    expect(longestQueue).toBeLessThanOrEqual(2 * 1001 + 1024);
  });
});
