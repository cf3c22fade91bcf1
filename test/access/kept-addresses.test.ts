import { describe, expect, it } from 'vitest';
import { KeptAddresses, MAX_KEPT_ADDRESSES } from '../../src/access/kept-addresses.js';

// An address as a log line holds it: a slice of a longer text.
const inLine = (address: string): string => {
  const line = `sshd[1]: Failed password for root from ${address} port 22 ssh2`;
  const at = line.indexOf(' from ') + 6;
  return line.slice(at, at + address.length);
};

describe('kept addresses', () => {
  it('gives the address back as it is, and remembers it once however often it comes', () => {
    const kept = new KeptAddresses();
    expect([kept.keep(inLine('203.0.113.77')), kept.keep(inLine('203.0.113.77')), kept.keep(inLine('2001:db8::7'))])
      .toEqual(['203.0.113.77', '203.0.113.77', '2001:db8::7']);
    expect(kept.size).toBe(2);
  });

  // A flood of addresses never seen again cannot grow the table past its bound.
  it('starts again, empty, past MAX_KEPT_ADDRESSES', () => {
    const kept = new KeptAddresses();
    const address = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    for (let n = 0; n < MAX_KEPT_ADDRESSES; n++) kept.keep(address(n));
    expect(kept.size).toBe(MAX_KEPT_ADDRESSES);
    expect(kept.keep(address(MAX_KEPT_ADDRESSES))).toBe(address(MAX_KEPT_ADDRESSES));
    expect(kept.size).toBe(1);
  });
});
