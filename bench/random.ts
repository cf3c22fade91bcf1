// A deterministic pseudo-random sequence of fractions in [0, 1) for the generated logs:
// xorshift32, whose period is 2^32 - 1. (A linear congruential step computed in doubles,
// `seed * 1103515245` past 2^53, loses its low bits and fell into a cycle of a few thousand
// values: a log meant to come from 100,000 sources came from 2,453.)
export function seededFractions(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}
