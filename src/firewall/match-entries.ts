// The kernel may expire an element a moment before the daemon closes its grant.
const EXPIRY_SLACK = 2000;

export interface ExpectedEntry {
  key: string;
  until: number;
}

// Whether the grant or ban entries found are exactly the expected ones: each that lives
// beyond the slack is there, and nothing else is.
export function matchesEntries(found: ReadonlySet<string>, expected: readonly ExpectedEntry[], now: number): boolean {
  const allowed = new Set(expected.map((entry) => entry.key));
  for (const key of found) if (!allowed.has(key)) return false;
  return expected.every((entry) => entry.until <= now + EXPIRY_SLACK || found.has(entry.key));
}
