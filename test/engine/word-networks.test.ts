import { describe as group, expect, it } from 'vitest';
import { WordNetworks } from '../../src/engine/word-networks.js';
import { networkContains, parseNetwork, type Network } from '../../src/net/address.js';

const networks = ['192.0.2.10', '198.51.100.0/24', '10.0.0.0/8', '0.0.0.0/0', '172.16.0.0/12', '203.0.113.129/25', '2001:db8:1::/48',
  '2001:db8::1', '::/0', 'fe80::/10', '2001:db8:8000::/33', '2001:db8:0:1:8000::/65', '2001:db8::/127'].map((text) => parseNetwork(text) as Network);

const addresses = ['192.0.2.10', '192.0.2.11', '198.51.100.255', '198.51.101.0', '10.255.255.255', '11.0.0.0', '172.31.255.255', '172.32.0.0',
  '203.0.113.128', '203.0.113.129', '203.0.113.255', '2001:db8:1::5', '2001:db8:1:ffff::1', '2001:db8:2::1', '2001:db8::1', '2001:db8::',
  'fe80::1', 'febf::1', 'fec0::1', '2001:db8:8000::1', '2001:db8:7fff::1', '2001:db8:0:1:8000::1', '2001:db8:0:1:7fff::1',
  '::1', '::', '0.0.0.0', '255.255.255.255', '::ffff:c000:20a', '2001:DB8::1'];

group('whitelist as address words', () => {
  // Every (network, address) pair: the same answer as networkContains on the text.
  it.each(networks.map((network) => [network.text, network]))('%s contains what networkContains says', (_text, network) => {
    const words = new WordNetworks([network]);
    expect(addresses.filter((address) => words.contains(address))).toEqual(addresses.filter((address) => networkContains(network, address)));
  });

  it('contains nothing when empty, and what any of several contains', () => {
    expect(new WordNetworks([]).contains('192.0.2.10')).toBe(false);
    const several = new WordNetworks(networks.slice(0, 3));
    expect(addresses.filter((address) => several.contains(address))).toEqual(['192.0.2.10', '198.51.100.255', '10.255.255.255']);
  });
});
