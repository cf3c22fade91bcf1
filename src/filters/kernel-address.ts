import { formatIPv6Groups, isDottedQuad, normalizeAddress } from '../net/address.js';

// The validated, canonical text of the address at line[start, end) — what normalizeAddress
// returns for that text — read in place for the two forms the kernel prints: a dotted quad
// and the full eight-group IPv6 form (`%pI6`). Anything else goes through normalizeAddress.
export function normalizeAddressAt(line: string, start: number, end: number): string | undefined {
  const length = end - start;
  if (length === 39 && line.charCodeAt(start + 4) === 58) return fullIPv6At(line, start) ?? normalizeAddress(line.slice(start, end));
  if (length >= 7 && length <= 15) {
    const quad = isDottedQuad(line, start, end);
    if (quad) return line.slice(start, end);
  }
  return normalizeAddress(line.slice(start, end));
}

const groups = new Array<number>(8).fill(0);

// `xxxx:xxxx:...:xxxx` (hex digits either case) as RFC 5952 text: lower case, no leading
// zeros, the longest run of two or more zero groups (the first of equals) as `::`.
export function fullIPv6At(line: string, start: number): string | undefined {
  for (let g = 0; g < 8; g++) {
    const at = start + g * 5;
    if (g < 7 && line.charCodeAt(at + 4) !== 58) return undefined;
    let value = 0;
    for (let i = at; i < at + 4; i++) {
      const c = line.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (digit < 0) return undefined;
      value = value * 16 + digit;
    }
    groups[g] = value;
  }
  return formatIPv6Groups(groups);
}
