import { describe, expect, it } from 'vitest';
import { buildSshAuth } from '../../src/filters/build-ssh-auth.js';
import { formatIPv6Groups, normalizeAddress } from '../../src/net/address.js';

// The address a failure line yields, or the reason it yields none.
function addressOf(host: string): string {
  const built = buildSshAuth('failure/failed', { host }, 0, 1234);
  return built.ok ? built.event.src ?? '(none)' : built.reason;
}

describe('an IPv6 address already in RFC 5952 form is taken as it is, any other form is normalised', () => {
  it.each([
    // canonical: kept
    ['2001:db8::1', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['2001:db8:0:1::', '2001:db8:0:1::'],
    ['1::3:0:0:6:7', '1::3:0:0:6:7'],
    ['1:0:0:4::8', '1:0:0:4::8'],
    // the run after `::` as long as it: the first is the one
    ['1:2::5:0:0:8', '1:2::5:0:0:8'],
    // not canonical: normalised
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8::1', '2001:db8::1'],
    ['1:0:0:4:5:6:7:8', '1::4:5:6:7:8'],
    ['0::1', '::1'],
    ['1:0::', '1::'],
    ['1::0:8', '1::8'],
    ['1:0:0:4::7:8', '1::4:0:0:7:8'],
    ['1:0:0:4:5::8', '1::4:5:0:0:8'],
    ['1::4:5:6:7:8:9', '1:0:4:5:6:7:8:9'],
    // not addresses
    ['1:2:3:4:5:6:7', 'invalid address "1:2:3:4:5:6:7"'],
    ['1:2:3:4:5:6:7:8:9', 'invalid address "1:2:3:4:5:6:7:8:9"'],
    ['1::2::3', 'invalid address "1::2::3"'],
    ['1:::2', 'invalid address "1:::2"'],
    ['1:', 'invalid address "1:"'],
    [':1', 'invalid address ":1"'],
    ['12345::1', 'invalid address "12345::1"'],
    ['1::g', 'invalid address "1::g"'],
  ])('%s gives %s', (host, expected) => {
    expect(addressOf(host)).toBe(expected);
  });

  // Every way of writing addresses with zero runs of all lengths and places.
  it('agrees with normalizeAddress on every form of many addresses', () => {
    const disagreements: string[] = [];
    for (let mask = 0; mask < 256; mask++) {
      const groups = Array.from({ length: 8 }, (_, g) => ((mask >> g) & 1 ? 0 : 0x10 * g + 1));
      const plain = groups.map((group) => group.toString(16)).join(':');
      const forms = [formatIPv6Groups(groups), plain, plain.toUpperCase(), groups.map((group) => group.toString(16).padStart(4, '0')).join(':')];
      // every run of zero groups, compressed
      for (let start = 0; start < 8; start++) {
        for (let end = start + 1; end <= 8 && groups[end - 1] === 0; end++) {
          forms.push(`${groups.slice(0, start).map((group) => group.toString(16)).join(':')}::${groups.slice(end).map((group) => group.toString(16)).join(':')}`);
        }
      }
      for (const form of forms) {
        const expected = normalizeAddress(form) ?? `invalid address "${form}"`;
        if (addressOf(form) !== expected) disagreements.push(`${form}: ${addressOf(form)}, not ${expected}`);
      }
    }
    expect(disagreements).toEqual([]);
  });
});
