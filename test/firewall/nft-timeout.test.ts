import { describe, expect, it } from 'vitest';
import { formatNftTimeout } from '../../src/firewall/nft-timeout.js';

const DAY = 86_400_000;

describe('nft timeouts', () => {
  it.each([
    // under a day: milliseconds, as before
    [30_000, '30000ms'],
    [DAY - 1, '86399999ms'],
    [0.2, '1ms'],
    // a day or more: units nft reads (it refuses 9 digits of ms)
    [DAY, '1d'],
    [2 * DAY + 3_600_000 * 3 + 60_000 * 4 + 5678, '2d3h4m5s678ms'],
    [9 * DAY, '9d'],
    [365 * DAY, '365d'],
    // beyond ten years: ten years
    [20 * 365 * DAY, '3650d'],
    [1e300, '3650d'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatNftTimeout(ms)).toBe(text);
  });
});
