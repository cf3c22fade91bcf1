import { mappedIPv4Network, parseNetwork, type Network } from '../net/address.js';
import type { ConfigWarning } from './problems.js';
import type { SectionReader } from './section-reader.js';

// Every entry is checked and every bad one reported: a typo in one must not hide another.
export function readWhitelist(reader: SectionReader): Network[] {
  const text = reader.text('whitelist');
  if (text === undefined) return [];
  const networks: Network[] = [];
  for (const item of text.split(/[\s,]+/).filter((entry) => entry !== '')) {
    const network = parseNetwork(item);
    if (network === undefined) {
      reader.problem('whitelist', 'IPv4/IPv6 addresses or networks (192.0.2.0/24, 2001:db8::/48)', item);
      continue;
    }
    const slash = item.indexOf('/');
    const exact = slash === -1 ? network : parseNetwork(item.slice(0, slash));
    // An IPv4-mapped entry (`::ffff:192.0.2.10`, as sshd logs a dual-stack client) is the IPv4
    // network it means: the kernel sees those clients' packets as IPv4, so the IPv6 form would
    // let none of them in and lock out the admin who copied it.
    const meant = mappedIPv4Network(network) ?? network;
    if (exact !== undefined && exact.bits !== network.bits) {
      reader.problem('whitelist', `a network address such as ${meant.text} (no host bits after the prefix)`, item);
      continue;
    }
    networks.push(meant);
  }
  return networks;
}

export function warnWhitelist(whitelist: readonly Network[], file: string): ConfigWarning[] {
  const where = { file, section: 'options', key: 'whitelist' };
  if (whitelist.length === 0) {
    return [{ ...where, message: 'empty: no address gets in without knocking, so a daemon that stops seeing knocks locks everyone out (add your admin addresses).' }];
  }
  return whitelist
    .filter((network) => network.prefix === 0)
    .map((network) => ({ ...where, message: `${network.text} lets every ${network.family === 4 ? 'IPv4' : 'IPv6'} address past the gate, so the gate protects nothing.` }));
}
