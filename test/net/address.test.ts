import { describe, expect, it } from 'vitest';
import { networkContains, normalizeAddress, outermostNetworks, parseNetwork, type Network } from '../../src/net/address.js';

describe('addresses', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['fd00:0231:0000:0000:0000:0000:0000:0002', 'fd00:231::2'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    // refused: out of range, octal-looking, zone ids, too long, empty, other text
    ['999.1.1.1', undefined],
    ['010.1.1.1', undefined],
    ['fe80::1%eth0', undefined],
    ['1.2.3.4.5', undefined],
    ['', undefined],
    ['-1.2.3.4', undefined],
    ['2001:db8:::1', undefined],
  ])('%s', (text, expected) => {
    expect(normalizeAddress(text)).toBe(expected);
  });

  it.each([
    ['192.0.2.0/24', '192.0.2.200', true],
    ['192.0.2.0/24', '192.0.3.1', false],
    ['192.0.2.10', '192.0.2.10', true],
    ['2001:db8::/48', '2001:db8:0:ffff::1', true],
    ['2001:db8::/48', '2001:db9::1', false],
    ['0.0.0.0/0', '2001:db8::1', false],
  ])('%s contains %s: %s', (network, address, expected) => {
    const parsed = parseNetwork(network);
    expect(parsed).toBeDefined();
    if (parsed) expect(networkContains(parsed, address)).toBe(expected);
  });

  it.each(['192.0.2.0/33', '2001:db8::/129', '192.0.2.0/', 'x/24'])('refuses the network %s', (text) => {
    expect(parseNetwork(text)).toBeUndefined();
  });
});

describe('outermostNetworks', () => {
  const texts = (list: string[]) => outermostNetworks(list.map((text) => parseNetwork(text) as Network)).map((network) => network.text);

  it('leaves out each network inside another one listed, and a repeat, keeping the order of the rest', () => {
    expect(texts(['192.0.2.10', '198.51.100.0/24', '192.0.2.0/24', '10.0.0.0/8', '198.51.100.7', '10.1.0.0/16', '192.0.2.0/24']))
      .toEqual(['198.51.100.0/24', '192.0.2.0/24', '10.0.0.0/8']);
    expect(texts(['2001:db8:1:2::/64', '2001:db8:1::/48', '2001:db8:2::1', '2001:db8:1::/48'])).toEqual(['2001:db8:1::/48', '2001:db8:2::1/128']);
  });

  it('keeps networks side by side, and leaves out those inside a larger one listed later', () => {
    expect(texts(['192.0.2.0/25', '192.0.2.128/25', '192.0.3.0/24'])).toEqual(['192.0.2.0/25', '192.0.2.128/25', '192.0.3.0/24']);
    expect(texts(['192.0.2.0/25', '192.0.2.128/25', '192.0.3.0/24', '0.0.0.0/1', '128.0.0.0/1'])).toEqual(['0.0.0.0/1', '128.0.0.0/1']);
  });
});
