import { seededFractions } from '../../bench/random.js';

// A deterministic pseudo-random sequence (the same run every time): random(n) is an integer
// in [0, n), from the bench's xorshift32 (period 2^32 - 1). The linear congruential step
// these tests first used was computed in doubles and fell into a cycle after about 11,000
// draws, so a long run repeated itself.
export function seededRandom(seed: number): (n: number) => number {
  const fraction = seededFractions(seed);
  return (n) => Math.floor(fraction() * n);
}
