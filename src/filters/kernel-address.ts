import { normalizeAddress } from '../net/address.js';

// The validated, canonical text of the address at line[start, end) — what normalizeAddress
// returns for that text — read in place for the two forms the kernel prints: a dotted quad
// and the full eight-group IPv6 form (`%pI6`). Anything else goes through normalizeAddress.
export function normalizeAddressAt(line: string, start: number, end: number): string | undefined {
  const length = end - start;
  if (length === 39 && line.charCodeAt(start + 4) === 58) return fullIPv6At(line, start) ?? normalizeAddress(line.slice(start, end));
  if (length >= 7 && length <= 15) {
    const quad = isDottedQuadAt(line, start, end);
    if (quad) return line.slice(start, end);
  }
  return normalizeAddress(line.slice(start, end));
}

// Four decimal octets 0-255 without leading zeros.
function isDottedQuadAt(line: string, start: number, end: number): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : line.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255 || (digits > 1 && line.charCodeAt(i - digits) === 48)) return false;
      octets++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return octets === 4;
}

const groups = new Array<number>(8).fill(0);

// `xxxx:xxxx:...:xxxx` (hex digits either case) as RFC 5952 text: lower case, no leading
// zeros, the longest run of two or more zero groups (the first of equals) as `::`.
function fullIPv6At(line: string, start: number): string | undefined {
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
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += '::';
      g += bestLength - 1;
      continue;
    }
    if (g > 0 && g !== bestStart + bestLength) text += ':';
    text += (groups[g] as number).toString(16);
  }
  return text;
}
