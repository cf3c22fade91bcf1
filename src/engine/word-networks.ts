import { networkContains, type Network } from '../net/address.js';
import { addressToWords } from './address-words.js';

interface WordNetwork {
  family: number;
  words: Uint32Array;
  mask: Uint32Array;
}

// Networks (the whitelist) as address words and masks: the engine asks for every knock on a
// trap port, and comparing four words is far cheaper than BigInt arithmetic on the text.
export class WordNetworks {
  private readonly networks: readonly WordNetwork[];
  private readonly scratch = new Uint32Array(4);

  constructor(private readonly list: readonly Network[]) {
    this.networks = list.map(toWords);
  }

  contains(src: string): boolean {
    if (this.networks.length === 0) return false;
    return this.containsWords(src, this.scratch, addressToWords(src, this.scratch, 0));
  }

  // contains() for a source already read into words (family 0: no canonical address).
  containsWords(src: string, words: Uint32Array, family: number): boolean {
    if (this.networks.length === 0) return false;
    // Knocks carry canonical addresses; anything else is asked the slow way.
    if (family === 0) return this.list.some((network) => networkContains(network, src));
    return this.networks.some((network) => network.family === family
      && ((words[0] as number) & (network.mask[0] as number)) >>> 0 === network.words[0]
      && ((words[1] as number) & (network.mask[1] as number)) >>> 0 === network.words[1]
      && ((words[2] as number) & (network.mask[2] as number)) >>> 0 === network.words[2]
      && ((words[3] as number) & (network.mask[3] as number)) >>> 0 === network.words[3]);
  }
}

// IPv4 in the last word, as address-words.ts keeps it; `bits` is already masked.
function toWords(network: Network): WordNetwork {
  const words = new Uint32Array(4);
  const mask = new Uint32Array(4);
  const first = network.family === 4 ? 3 : 0;
  for (let w = first; w < 4; w++) {
    words[w] = Number((network.bits >> BigInt((3 - w) * 32)) & 0xffffffffn);
    const bits = Math.min(32, Math.max(0, network.prefix - (w - first) * 32));
    mask[w] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  }
  return { family: network.family, words, mask };
}
