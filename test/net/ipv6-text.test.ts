import { describe, expect, it } from 'vitest';
import { formatIPv6Groups, readCanonicalIPv6 } from '../../src/net/address.js';
import { seededRandom } from '../helpers/seeded-random.js';

// RFC 5952 text written the plain way: each group in hex, the longest run of two or more zero
// groups (the first of equals) as `::`.
function reference(groups: readonly number[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

describe('IPv6 text', () => {
  // Before any address is written (what is remembered of the last one starts out as `::`).
  it('is refused when empty, before anything is written', () => {
    const read = (text: string) => {
      const groups = new Uint16Array(8).fill(7);
      return readCanonicalIPv6(text, groups) ? [...groups] : undefined;
    };
    expect(['', '::1', '::', '1::'].map(read)).toEqual([undefined, [0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]]);
  });

  const random = seededRandom(5952);
  // Mostly zero groups and short values, so that runs of zeros and every digit count occur.
  const group = () => [0, 0, 0, 1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff, random(0x10000)][random(12)] as number;
  const samples = Array.from({ length: 3000 }, () => Array.from({ length: 8 }, group));

  it('is written as RFC 5952 has it', () => {
    expect(samples.map((groups) => formatIPv6Groups(groups))).toEqual(samples.map(reference));
  });

  it('reads back to its groups, just written or not', () => {
    const read = (text: string) => {
      const groups = new Uint16Array(8);
      return readCanonicalIPv6(text, groups) ? [...groups] : undefined;
    };
    for (const [i, groups] of samples.entries()) {
      const text = formatIPv6Groups(groups);
      expect(read(text)).toEqual(groups);
      // another address written since: the text is read, not taken from what was written last
      const earlier = samples[i === 0 ? 1 : i - 1] as number[];
      formatIPv6Groups(earlier);
      expect(read(text)).toEqual(groups);
    }
    expect([read(''), read('::'), read('0::1'), read('::1')]).toEqual([undefined, [0, 0, 0, 0, 0, 0, 0, 0], undefined, [0, 0, 0, 0, 0, 0, 0, 1]]);
  });
});
