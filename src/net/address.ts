import { isIPv4, isIPv6 } from 'node:net';

export type AddressFamily = 4 | 6;

export interface Network {
  family: AddressFamily;
  bits: bigint;
  prefix: number;
  text: string;
}

// Canonical text for a validated address, or undefined. IPv4 must be dotted quad without
// leading zeros (inet_aton's octal forms are refused); IPv6 is lower-cased and compressed.
export function normalizeAddress(text: string): string | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  if (isDottedQuad(text)) return text;
  if (!text.includes(':')) return undefined;
  // node's isIPv6 compiles a large regex on its first call, at every start (the whitelist).
  if (readCanonicalIPv6(text, scratchGroups)) return text;
  if (!isIPv6(text) || text.includes('%')) return undefined;
  const groups = ipv6Groups(text);
  return groups === undefined ? undefined : formatIPv6Groups(groups);
}

// Four decimal octets 0-255 without leading zeros in text[start, end); a loop, as this runs
// on every LOG line.
export function isDottedQuad(text: string, start = 0, end = text.length): boolean {
  return dottedQuadValue(text, start, end) !== -1;
}

// The 32-bit value of the dotted quad in text[start, end) (as isDottedQuad reads it), or -1.
export function dottedQuadValue(text: string, start = 0, end = text.length): number {
  let octets = 0;
  let address = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255 || (digits > 1 && text.charCodeAt(i - digits) === 48)) return -1;
      octets++;
      address = address * 256 + value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return -1;
    }
  }
  return octets === 4 ? address : -1;
}

export function addressFamily(address: string): AddressFamily {
  return address.includes(':') ? 6 : 4;
}

export function parseNetwork(text: string): Network | undefined {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = normalizeAddress(addressText);
  if (address === undefined) return undefined;
  const family = addressFamily(address);
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > max) return undefined;
  }
  const bits = maskBits(addressToBigInt(address), family, prefix);
  return { family, bits, prefix, text: `${formatBits(bits, family)}/${prefix}` };
}

export function networkContains(network: Network, address: string): boolean {
  const family = addressFamily(address);
  if (family !== network.family) return false;
  return maskBits(addressToBigInt(address), family, network.prefix) === network.bits;
}

// `networks` without each one inside another of them (or listed before, the same), in their
// order: CIDR networks either nest or do not meet, so sorted by start and then by size, largest
// first, a network inside any kept one is inside the last kept one.
export function outermostNetworks(networks: readonly Network[]): Network[] {
  const order = networks.map((_network, index) => index);
  const at = (index: number): Network => networks[index] as Network;
  order.sort((a, b) => at(a).family - at(b).family || (at(a).bits < at(b).bits ? -1 : at(a).bits > at(b).bits ? 1 : 0) || at(a).prefix - at(b).prefix || a - b);
  const kept = new Set<number>();
  let last: Network | undefined;
  for (const index of order) {
    const network = at(index);
    if (last !== undefined && last.family === network.family && maskBits(network.bits, network.family, last.prefix) === last.bits) continue;
    kept.add(index);
    last = network;
  }
  return networks.filter((_network, index) => kept.has(index));
}

// An IPv4-mapped network (inside ::ffff:0:0/96, as sshd on a dual-stack socket writes an IPv4
// client) as the IPv4 network it stands for; undefined for any other. (A network shorter than
// /96 never has all of ::ffff:0:0/96's bits.)
export function mappedIPv4Network(network: Network): Network | undefined {
  if (network.family !== 6 || network.bits >> 32n !== 0xffffn) return undefined;
  const bits = network.bits & 0xffffffffn;
  const prefix = network.prefix - 96;
  return { family: 4, bits, prefix, text: `${formatBits(bits, 4)}/${prefix}` };
}

function maskBits(bits: bigint, family: AddressFamily, prefix: number): bigint {
  const width = family === 4 ? 32n : 128n;
  const hostBits = width - BigInt(prefix);
  return (bits >> hostBits) << hostBits;
}

function addressToBigInt(address: string): bigint {
  if (addressFamily(address) === 4) {
    return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  }
  return ipv6ToBigInt(address) ?? 0n;
}

function formatBits(bits: bigint, family: AddressFamily): string {
  if (family === 6) return formatIPv6(bits);
  return [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 255n)).join('.');
}

function ipv6ToBigInt(text: string): bigint | undefined {
  const groups = ipv6Groups(text);
  return groups?.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

// The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail included).
function ipv6Groups(text: string): number[] | undefined {
  let head = text;
  let tail4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    if (!isIPv4(maybeV4)) return undefined;
    const octets = maybeV4.split('.').map(Number);
    tail4 = [((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)];
    head = text.slice(0, lastColon + 1) + '0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => (/^[0-9a-fA-F]{1,4}$/.test(group) ? parseInt(group, 16) : NaN));
  const left = parseGroups(halves[0] ?? '');
  const right = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (tail4.length > 0) {
    (halves.length === 2 ? right : left).pop();
  }
  const fill = 8 - left.length - right.length - tail4.length;
  if (halves.length === 2 && fill < 1) return undefined;
  const groups = halves.length === 2 ? [...left, ...new Array<number>(fill).fill(0), ...right, ...tail4] : [...left, ...tail4];
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return undefined;
  return groups;
}

function formatIPv6(bits: bigint): string {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((bits >> shift) & 0xffffn));
  return formatIPv6Groups(groups);
}

// RFC 5952 text of eight 16-bit groups: lower case, no leading zeros, the longest run of two
// or more zero groups (the first of equals) as `::`. Written as character codes: this runs for
// every IPv6 knock, and a string per group joined up cost about twice as much.
export function formatIPv6Groups(groups: ArrayLike<number>): string {
  const run = longestZeroRun(groups);
  const bestStart = run === -1 ? -1 : run >> 4;
  const bestLength = run === -1 ? 0 : run & 15;
  let n = 0;
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      textCodes[n++] = COLON;
      textCodes[n++] = COLON;
      g += bestLength - 1;
      continue;
    }
    if (g > 0 && g !== bestStart + bestLength) textCodes[n++] = COLON;
    const value = groups[g] as number;
    if (value >= 0x1000) textCodes[n++] = hexCode(value >> 12);
    if (value >= 0x100) textCodes[n++] = hexCode((value >> 8) & 15);
    if (value >= 0x10) textCodes[n++] = hexCode((value >> 4) & 15);
    textCodes[n++] = hexCode(value & 15);
  }
  textCodes.length = n;
  const text = String.fromCharCode.apply(null, textCodes);
  lastText = text;
  for (let g = 0; g < 8; g++) lastGroups[g] = groups[g] as number;
  return text;
}

const COLON = 58;
// Scratch for formatIPv6Groups' character codes (at most 39).
const textCodes: number[] = [];

function hexCode(digit: number): number {
  return digit < 10 ? 48 + digit : 87 + digit;
}

// The text formatIPv6Groups made last, and its groups: the engine reads back the words of the
// source the netfilter filter has just written, and finds them here without a second parse.
// (To begin with, `::`, whose groups are all zero.)
let lastText = '::';
const lastGroups = new Uint16Array(8);
// Scratch for normalizeAddress (its groups are not used there).
const scratchGroups = new Uint16Array(8);

// The run of zero groups among eight that RFC 5952 writes as `::` (the longest of two or
// more, the first of equals) as start << 4 | length, or -1 when there is none.
function longestZeroRun(groups: ArrayLike<number>): number {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = (i << 4) | (j - i);
      bestLength = j - i;
    }
    i = j;
  }
  return best;
}

// Whether `text` is an IPv6 address in RFC 5952 form (lower-case hexadecimal groups without
// leading zeros, `::` exactly where RFC 5952 puts it, no embedded IPv4 or scope): the text
// normalizeAddress returns as it is. Its eight groups are left in `groups`.
export function readCanonicalIPv6(text: string, groups: Uint16Array): boolean {
  // What formatIPv6Groups wrote is canonical, and its groups are known.
  if (text === lastText) {
    groups.set(lastGroups);
    return true;
  }
  const end = text.length;
  if (end < 2 || end > 39) return false;
  let count = 0;
  // The group index where `::` stands, or -1.
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const first = i;
    let value = 0;
    for (; i < end && i - first < 5; i++) {
      const c = text.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (digit === -1) break;
      value = value * 16 + digit;
    }
    const digits = i - first;
    if (digits === 0 || digits > 4 || (digits > 1 && text.charCodeAt(first) === 48) || count === 8) return false;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58 || ++i === end) return false;
    if (text.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = count;
      i++;
    }
  }
  if (gap === -1 ? count !== 8 : count > 6) return false;
  if (gap !== -1) {
    // Move the groups after `::` to the end and zero the gap.
    const fill = 8 - count;
    for (let g = count - 1; g >= gap; g--) groups[g + fill] = groups[g] as number;
    groups.fill(0, gap, gap + fill);
  }
  const run = longestZeroRun(groups);
  return gap === -1 ? run === -1 : run === ((gap << 4) | (8 - count));
}
