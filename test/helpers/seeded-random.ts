// A deterministic pseudo-random sequence (the same run every time): random(n) is an integer
// in [0, n). `low` takes the state modulo n, as the corpora first written with it did; the
// high bits are the better choice (the low ones of this generator repeat with a short period).
export function seededRandom(seed: number, bits: 'high' | 'low' = 'high'): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return bits === 'low' ? state % n : Math.floor((state / 0x80000000) * n);
  };
}
