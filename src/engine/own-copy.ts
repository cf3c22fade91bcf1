// A string of its own: an address read from a log line may be a slice of the 64 KiB chunk the
// line came from, and keeping the slice keeps the whole chunk. What a table keeps for
// longer than the line (a tracked source, a grant, a ban, a session) is copied once, when
// it is stored. V8 copies a substring shorter than 13 characters (SlicedString::kMinLength):
// most dotted quads are already their own and are kept as they are, sparing ~0.3 µs per new
// source (two calls into C++). A longer one is put behind a space and sliced again: slicing
// flattens the pair into a new string first, so the slice keeps that string, one character
// longer than the address, and no longer the chunk (a third of the cost of a round trip
// through a Buffer). test/engine/retention.test.ts guards the copy: IPv4 and IPv6 addresses of
// 13 characters or more, kept by full states (without it, 2 GB for its 2,000 sources).
const SLICED_MIN_LENGTH = 13;

export function ownCopy(text: string): string {
  return text.length < SLICED_MIN_LENGTH ? text : ` ${text}`.slice(1);
}
