import { describe as group, expect, it } from 'vitest';
import { addressToWords, wordsToAddress } from '../../src/engine/address-words.js';
import { normalizeAddress } from '../../src/net/address.js';
import { seededRandom } from '../helpers/seeded-random.js';

// A deterministic corpus: canonical addresses of both families, their non-canonical spellings
// (leading zeros, upper case, a `::` in the wrong place or for one group) and broken ones.
function corpus(): string[] {
  const random = seededRandom(7);
  const texts = ['::', '::1', '1::', '0.0.0.0', '255.255.255.255', '1::1:0:0:1', '1:0:0:1::1', '0:0:1::', '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', '1:0:3:4:5:6:7:8', '::ffff:1.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4',
    '1..2.3', '1:2', ':1::', '1:::2', '1::2::3', '12345::', 'g::1', '', ':', '1:', '1.2.3.4:', '1:2:3:4:5:6:7:8:9', '1::2:3:4:5:6:7:8'];
  const v4 = () => `${random(256)}.${random(256)}.${random(3) === 0 ? 0 : random(256)}.${random(256)}`;
  const group16 = () => (random(3) === 0 ? 0 : random(4) === 0 ? random(16) : random(65536));
  const v6 = () => {
    const words = new Uint32Array(4);
    for (let i = 0; i < 4; i++) words[i] = ((group16() << 16) | group16()) >>> 0;
    return wordsToAddress(words, 0, 6);
  };
  const mutate = (text: string): string => {
    const at = random(text.length + 1);
    const edits = [
      () => `${text.slice(0, at)}0${text.slice(at)}`,
      () => `${text.slice(0, at)}:${text.slice(at)}`,
      () => `${text.slice(0, at)}${text.slice(at + 1)}`,
      () => text.toUpperCase(),
      () => text.replace('::', ':0:'),
      () => text.replace(':0:', '::'),
      () => `${text.slice(0, at)}.${text.slice(at)}`,
      () => `${text.slice(0, at)}f${text.slice(at)}`,
    ];
    return (edits[random(edits.length)] as () => string)();
  };
  for (let i = 0; i < 3000; i++) {
    const text = i % 2 === 0 ? v4() : v6();
    texts.push(text, mutate(text), mutate(mutate(text)));
  }
  return texts;
}

group('address words', () => {
  // The table keeps exactly the canonical texts, and gives each back unchanged.
  it('accepts a text exactly when it is the canonical form of an address, and formats it back', () => {
    const words = new Uint32Array(4);
    const wrong: string[] = [];
    for (const text of corpus()) {
      const canonical = normalizeAddress(text) === text;
      const family = addressToWords(text, words, 0);
      const back = family === 0 ? undefined : wordsToAddress(words, 0, family);
      if ((family !== 0) !== canonical || (canonical && back !== text)) wrong.push(text);
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    ['10.1.2.3', 4, [0, 0, 0, 0x0a010203]],
    ['2001:db8::1', 6, [0x20010db8, 0, 0, 1]],
    ['::', 6, [0, 0, 0, 0]],
    ['1:0:0:2::', 6, [0x10000, 2, 0, 0]],
  ])('%s is family %d with words %j', (text, family, expected) => {
    const words = new Uint32Array(8).fill(7);
    expect(addressToWords(text, words, 4)).toBe(family);
    expect([...words.subarray(4)]).toEqual(expected);
  });
});
