import { dottedQuadValue, formatIPv6Groups, longestZeroRun } from '../net/address.js';

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

export function wordsToAddress(words: Uint32Array, at: number, family: number): string {
  if (family === 4) {
    const v = words[at + 3] as number;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
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
  const end = text.length;
  if (end < 2 || end > 39) return 0;
  let count = 0;
  // The group index where `::` stands, or -1.
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return 0;
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
    if (digits === 0 || digits > 4 || (digits > 1 && text.charCodeAt(first) === 48) || count === 8) return 0;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58 || ++i === end) return 0;
    if (text.charCodeAt(i) === 58) {
      if (gap !== -1) return 0;
      gap = count;
      i++;
    }
  }
  if (gap === -1 ? count !== 8 : count > 6) return 0;
  if (gap !== -1) {
    // Move the groups after `::` to the end and zero the gap.
    const fill = 8 - count;
    for (let g = count - 1; g >= gap; g--) groups[g + fill] = groups[g] as number;
    groups.fill(0, gap, gap + fill);
  }
  const run = longestZeroRun(groups);
  if (gap === -1 ? run !== -1 : run !== ((gap << 4) | (8 - count))) return 0;
  for (let w = 0; w < 4; w++) out[at + w] = (((groups[2 * w] as number) << 16) | (groups[2 * w + 1] as number)) >>> 0;
  return 6;
}
