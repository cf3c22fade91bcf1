import { randomBytes } from 'node:crypto';

// A random hash seed per table: addresses are chosen by whoever sends the packets.
export function newHashSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

// The hash of an address's words (address-words.ts, at `at` in `words`) for a table indexed
// by them; the caller masks it to its number of buckets.
export function hashWords(seed: number, words: Uint32Array, at: number, family: number): number {
  let h = seed ^ family;
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (words[at + i] as number), 0x9e3779b1);
    h ^= h >>> 15;
  }
  return h;
}
