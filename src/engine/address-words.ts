// An address as four 32-bit words (IPv4 in the last word), so a table of sources can hold
// it in typed arrays instead of strings. Only the canonical text (dotted quad, RFC 5952
// IPv6, as the kernel prints them) is accepted: formatting the words gives that text back,
// so a source kept as words is the same source, string for string.

// Writes `text`'s words into `out` at `at`; returns 4 or 6, or 0 when the text is no
// canonical address.
export function addressToWords(text: string, out: Uint32Array, at: number): number {
  const family = text.includes(':') ? parseIPv6(text, out, at) : parseIPv4(text, out, at);
  if (family === 0 || wordsToAddress(out, at, family) !== text) return 0;
  return family;
}

export function wordsToAddress(words: Uint32Array, at: number, family: number): string {
  if (family === 4) {
    const v = words[at + 3] as number;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) {
    const v = words[at + i] as number;
    groups.push(v >>> 16, v & 0xffff);
  }
  return formatGroups(groups);
}

function parseIPv4(text: string, out: Uint32Array, at: number): number {
  const parts = text.split('.');
  if (parts.length !== 4) return 0;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return 0;
    value = value * 256 + Number(part);
  }
  out[at] = 0;
  out[at + 1] = 0;
  out[at + 2] = 0;
  out[at + 3] = value;
  return 4;
}

// Plain hexadecimal groups with at most one `::` (no embedded IPv4: that is not what the
// kernel prints for an IPv6 source, and the round trip refuses it).
function parseIPv6(text: string, out: Uint32Array, at: number): number {
  const halves = text.split('::');
  if (halves.length > 2) return 0;
  const left = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const right = halves.length === 2 && halves[1] !== '' ? (halves[1] as string).split(':') : [];
  const fill = 8 - left.length - right.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return 0;
  const groups = [...left, ...new Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...right];
  for (let i = 0; i < 4; i++) {
    const high = groups[2 * i] as string;
    const low = groups[2 * i + 1] as string;
    if (!/^[0-9a-f]{1,4}$/.test(high) || !/^[0-9a-f]{1,4}$/.test(low)) return 0;
    out[at + i] = ((parseInt(high, 16) << 16) | parseInt(low, 16)) >>> 0;
  }
  return 6;
}

// RFC 5952: lower case, the longest run of two or more zero groups (the first of equals)
// compressed.
function formatGroups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
