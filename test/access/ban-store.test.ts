import { describe, expect, it } from 'vitest';
import { BanStore, MAX_KEPT_OFFENSES, MAX_SAVED_OFFENSES } from '../../src/access/ban-store.js';
import { parseNetwork, type Network } from '../../src/net/address.js';

const A = '203.0.113.7';
const B = '203.0.113.8';
const C = '203.0.113.9';

describe('a ban', () => {
  it('holds until its end and is over at its end, even before expire() runs', () => {
    const store = new BanStore([]);
    store.ban(A, 100_000, 1);
    expect(store.bannedUntil(A, 99_999)).toBe(100_000);
    expect(store.bannedUntil(A, 100_000)).toBeUndefined();
    expect(store.expire(100_000)).toEqual([{ type: 'unbanned', time: 100_000, src: A }]);
  });
});

describe('expire', () => {
  // expire() reads the bans only once one is due: a ban with an earlier end, added after
  // one with a later end, still ends on time; the bans due together come in the order they
  // were made.
  it('ends every ban at its own time, whatever order the bans were made in', () => {
    const store = new BanStore([]);
    store.ban(A, 300_000, 1);
    expect(store.expire(100_000)).toEqual([]);
    store.ban(B, 200_000, 1);
    store.ban(C, 150_000, 1);
    expect(store.expire(149_999)).toEqual([]);
    expect(store.expire(200_000)).toEqual([{ type: 'unbanned', time: 200_000, src: B }, { type: 'unbanned', time: 150_000, src: C }]);
    expect(store.expire(299_999)).toEqual([]);
    expect(store.expire(300_000)).toEqual([{ type: 'unbanned', time: 300_000, src: A }]);
  });
});

describe('the counts of bans the state file keeps', () => {
  it('are those of addresses not banned now, the latest banned last', () => {
    const store = new BanStore([]);
    store.ban(A, 100, 1);
    store.ban(B, 100, 1);
    store.ban(C, 500, 1);
    store.expire(100);
    store.ban(A, 300, 2);
    store.expire(300);
    expect(store.savedOffenses()).toEqual([{ src: B, offenses: 1 }, { src: A, offenses: 2 }]);
    expect(store.saved()).toEqual([{ src: C, until: 500, offenses: 1 }]);
  });

  // A flood of addresses banned once cannot push a repeat offender out.
  it('keep past MAX_SAVED_OFFENSES the highest counts, and the latest banned among equal ones', () => {
    const store = new BanStore([]);
    store.ban(A, 1, 3);
    store.ban(B, 1, 2);
    for (let i = 0; i < MAX_SAVED_OFFENSES; i++) store.ban(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 1, 1);
    store.expire(1);
    const saved = store.savedOffenses();
    expect(saved.length).toBe(MAX_SAVED_OFFENSES);
    expect(saved.slice(0, 3)).toEqual([{ src: A, offenses: 3 }, { src: B, offenses: 2 }, { src: '10.0.0.2', offenses: 1 }]);
    const last = MAX_SAVED_OFFENSES - 1;
    expect(saved.at(-1)).toEqual({ src: `10.${last >> 16}.${(last >> 8) & 255}.${last & 255}`, offenses: 1 });
  });

  // Past the cap, a lower count is never kept while one of the lowest kept count waits, however
  // late it was banned.
  it('keep past MAX_SAVED_OFFENSES no lower count in the place of an equal one', () => {
    const store = new BanStore([]);
    const twice = (i: number): string => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < MAX_SAVED_OFFENSES; i++) store.ban(twice(i), 1, 2);
    for (let i = 0; i < 10; i++) store.ban(`198.51.100.${i}`, 1, 1);
    store.expire(1);
    const saved = store.savedOffenses();
    expect(saved.length).toBe(MAX_SAVED_OFFENSES);
    expect(saved.filter((entry) => entry.offenses === 1)).toEqual([]);
  });

  // Ever new addresses banned once, for weeks: what is kept of them in memory stays bounded,
  // chosen as the state file chooses, and never the count of an address banned now.
  it('are kept in memory only up to an eighth past MAX_KEPT_OFFENSES, the repeat offenders first', () => {
    const store = new BanStore([]);
    store.ban(A, 1, 3);
    store.ban(C, Infinity, 1);
    const flood = (i: number): string => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
    // Each ban ends a moment later (expire runs once a log second).
    for (let i = 0; i < 2 * MAX_KEPT_OFFENSES; i++) {
      store.ban(flood(i), i + 2, 1);
      if (i % 1000 === 0) store.expire(i);
    }
    store.expire(Number.MAX_SAFE_INTEGER);
    expect(store.tracked).toBeLessThanOrEqual(MAX_KEPT_OFFENSES + MAX_KEPT_OFFENSES / 8 + 1);
    expect(store.tracked).toBeGreaterThan(MAX_KEPT_OFFENSES);
    expect([store.offenses(A), store.offenses(C), store.offenses(flood(0)), store.offenses(flood(2 * MAX_KEPT_OFFENSES - 1))]).toEqual([3, 1, 0, 1]);
    expect(store.savedOffenses().length).toBe(MAX_SAVED_OFFENSES);
    expect(store.savedOffenses()[0]).toEqual({ src: A, offenses: 3 });
  });

  it('come back after a restart, but for a whitelisted address and an address whose restored ban has its own', () => {
    const store = new BanStore([parseNetwork('192.0.2.0/24') as Network]);
    store.restore({ src: C, until: 500, offenses: 4 });
    store.restoreOffenses([{ src: A, offenses: 2 }, { src: '192.0.2.7', offenses: 3 }, { src: C, offenses: 1 }]);
    expect(store.offenses(A)).toBe(2);
    expect(store.offenses('192.0.2.7')).toBe(0);
    expect(store.offenses(C)).toBe(4);
    expect(store.savedOffenses()).toEqual([{ src: A, offenses: 2 }]);
  });
});

describe('the whitelist', () => {
  const store = new BanStore(['192.0.2.0/24', '10.0.0.1/32', '2001:db8:1::/48', '2001:db8:2:0:0:0:0:8000/113'].map((text) => parseNetwork(text) as Network));

  // The networks are compared as numbers: the edges of each, both families.
  it.each([
    ['192.0.2.0', true], ['192.0.2.255', true], ['192.0.3.0', false], ['192.0.1.255', false],
    ['10.0.0.1', true], ['10.0.0.2', false],
    ['2001:db8:1::', true], ['2001:db8:1:ffff:ffff:ffff:ffff:ffff', true], ['2001:db8:2::', false], ['2001:db8::ffff', false],
    ['2001:db8:2::8000', true], ['2001:db8:2::ffff', true], ['2001:db8:2::7fff', false],
  ])('%s is exempt: %s', (src, exempt) => {
    expect(store.exempt(src)).toBe(exempt);
  });
});
