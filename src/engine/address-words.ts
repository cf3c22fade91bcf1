import { dottedQuadValue, formatIPv6Groups, readCanonicalIPv6 } from '../net/address.js';

// An address as four 32-bit words (IPv4 in the last word), so a table of sources can hold
// it in typed arrays instead of strings. Only the canonical text (dotted quad, RFC 5952
// IPv6, as the kernel prints them) is accepted: formatting the words gives that text back,
// so a source kept as words is the same source, string for string.
//
// These run for every knock of a source the table may hold: they read character codes in
// one pass and check the canonical form as they go, with no intermediate strings.

// Scratch for the eight groups of an IPv6 address, shared: nothing here is re-entrant.
const groups = new Uint16Array(8);

// Writes `text`'s words into `out` at `at`; returns 4 or 6, or 0 when the text is no
// canonical address.
export function addressToWords(text: string, out: Uint32Array, at: number): number {
  return text.indexOf(':') === -1 ? parseIPv4(text, out, at) : parseIPv6(text, out, at);
}

// Each octet's text with its dot: three joins per IPv4 address, where converting each
// number and joining seven parts made twice the intermediate strings (a cleanup writes one
// address per first-step entry it decides).
const OCTETS = Array.from({ length: 256 }, (_, octet) => String(octet));
const DOTTED = OCTETS.map((octet) => `${octet}.`);

export function wordsToAddress(words: Uint32Array, at: number, family: number): string {
  if (family === 4) {
    const v = words[at + 3] as number;
    return (DOTTED[v >>> 24] as string) + (DOTTED[(v >>> 16) & 255] as string) + (DOTTED[(v >>> 8) & 255] as string) + (OCTETS[v & 255] as string);
  }
  for (let i = 0; i < 4; i++) {
    const v = words[at + i] as number;
    groups[2 * i] = v >>> 16;
    groups[2 * i + 1] = v & 0xffff;
  }
  return formatIPv6Groups(groups);
}

// Four decimal octets 0-255 without leading zeros.
function parseIPv4(text: string, out: Uint32Array, at: number): number {
  const value = dottedQuadValue(text);
  if (value === -1) return 0;
  out[at] = 0;
  out[at + 1] = 0;
  out[at + 2] = 0;
  out[at + 3] = value;
  return 4;
}

// Lower-case hexadecimal groups without leading zeros, and `::` exactly where RFC 5952
// puts it (no embedded IPv4: that is not what the kernel prints for an IPv6 source).
function parseIPv6(text: string, out: Uint32Array, at: number): number {
  if (!readCanonicalIPv6(text, groups)) return 0;
  for (let w = 0; w < 4; w++) out[at + w] = (((groups[2 * w] as number) << 16) | (groups[2 * w + 1] as number)) >>> 0;
  return 6;
}
