import { describe as group, expect, it } from 'vitest';
import { FirstSteps } from '../../src/engine/first-steps.js';
import { collectedMemory } from '../helpers/collected-memory.js';
import { seededRandom } from '../helpers/seeded-random.js';

// A distinct canonical address per n: every fifth one IPv6.
const addressOf = (n: number): string =>
  (n % 5 === 0 ? `2001:db8:${((n >>> 12) + 1).toString(16)}::${((n & 0xfff) + 1).toString(16)}` : `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);

group('first-step table', () => {
  // A model of the ring: entries from the oldest on, `undefined` for a source gone; the
  // table is full when the ring (holes included) reaches its capacity.
  it('keeps arrival order, holes and fullness exactly through its growth in memory', () => {
    // Past the first allocation (4,096 slots), so that the ring grows with holes and wrapped.
    const capacity = 6000;
    const table = new FirstSteps(capacity);
    const ring: (number | undefined)[] = [];
    let oldest = 0;
    const live: number[] = [];
    const random = seededRandom(3);
    let next = 0;
    const problems: string[] = [];
    for (let step = 0; step < 30_000; step++) {
      const choice = random(10);
      if (choice < 7 && !table.full) {
        const n = next++;
        table.add(addressOf(n), n, 7000 + (n % 3), n % 2 === 0 ? -1 : n % 65536, 1 + (n % 3));
        ring.push(n);
        live.push(n);
      } else if (live.length > 0) {
        // the oldest (as eviction does) or any other
        const at = choice === 9 ? live.indexOf(ring[oldest] as number) : random(live.length);
        const n = live[at] as number;
        live[at] = live[live.length - 1] as number;
        live.pop();
        table.remove(table.find(addressOf(n)));
        ring[n] = undefined;
        while (oldest < ring.length && ring[oldest] === undefined) oldest++;
      }
      if (step % 499 !== 0) continue;
      const expected = ring.slice(oldest).filter((n): n is number => n !== undefined);
      const slots = [...table.slots()];
      const seen = slots.map((slot) => [table.src(slot), table.start(slot), table.key(slot), table.spt(slot), table.mask(slot)]);
      const wanted = expected.map((n) => [addressOf(n), n, 7000 + (n % 3), n % 2 === 0 ? -1 : n % 65536, 1 + (n % 3)]);
      if (JSON.stringify(seen) !== JSON.stringify(wanted)) problems.push(`step ${step}: entries differ`);
      if (expected.some((n, i) => table.find(addressOf(n)) !== slots[i])) problems.push(`step ${step}: find`);
      if (table.full !== (ring.length - oldest === capacity) || table.size !== expected.length) problems.push(`step ${step}: full/size`);
      if (slots.length > 0 && table.oldest !== slots[0]) problems.push(`step ${step}: oldest`);
    }
    expect(problems).toEqual([]);
    // the table was full at times, and wrapped
    expect(next).toBeGreaterThan(capacity * 2);
  });

  // The arrays follow what is held, not the cap: 100,000 entries in a table of the default
  // 1,048,576 take a few MB, not the ~53 MB of the full table.
  // Measured once collected: the blocks earlier grows left are garbage, and counted they made
  // the figure depend on when the collector ran.
  it('takes memory for the entries it holds, not for its capacity', async () => {
    const before = await collectedMemory((usage) => usage.arrayBuffers);
    const table = new FirstSteps(1_048_576);
    for (let n = 0; n < 100_000; n++) table.add(addressOf(n), n, 7000, -1, 1);
    const grown = await collectedMemory((usage) => usage.arrayBuffers) - before;
    expect(table.size).toBe(100_000);
    expect(grown).toBeLessThan(8 * 1048576);
  });
});


group('first-step lookups', () => {
  // Addresses that differ from one another in one word only share probe runs in a table this
  // full: each must still find its own entry, and one never added none.
  it('tell apart addresses one word apart', () => {
    const hex = (n: number) => n.toString(16);
    const groupOf = (word: number, n: number): string => {
      const groups = [0x2001, 0xdb8, 7, 7, 7, 7, 7, 7];
      groups[2 * word + 1] = 0x100 + n;
      return groups.map(hex).join(':');
    };
    const present: string[] = [];
    const absent: string[] = [];
    for (let word = 0; word < 4; word++) {
      for (let n = 0; n < 120; n++) (n % 2 === 0 ? present : absent).push(groupOf(word, n));
    }
    const table = new FirstSteps(1000);
    for (const [i, address] of present.entries()) table.add(address, i, 7000, -1, 1);
    expect(present.map((address) => table.src(table.find(address)))).toEqual(present);
    expect(absent.filter((address) => table.find(address) !== -1)).toEqual([]);
  });
});
