// A string of its own: an address read from a log line is a slice of the 64 KiB chunk the
// line came from, and keeping the slice keeps the whole chunk. What a table keeps for
// longer than the line (a tracked source, a grant, a ban, a session) is copied once, when
// it is stored. Addresses are ASCII, which latin1 copies byte for byte.
export function ownCopy(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}
