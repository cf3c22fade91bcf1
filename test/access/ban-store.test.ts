import { describe, expect, it } from 'vitest';
import { BanStore } from '../../src/access/ban-store.js';

const A = '203.0.113.7';

describe('a ban', () => {
  it('holds until its end and is over at its end, even before expire() runs', () => {
    const store = new BanStore([]);
    store.ban(A, 100_000, 1);
    expect(store.bannedUntil(A, 99_999)).toBe(100_000);
    expect(store.bannedUntil(A, 100_000)).toBeUndefined();
    expect(store.expire(100_000)).toEqual([{ type: 'unbanned', time: 100_000, src: A }]);
  });
});
