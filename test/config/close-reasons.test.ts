import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems } from '../helpers/config-problems.js';

// Every reason the code closes a grant for, as written where it closes one: `close(…, 'logout')`,
// `closeGrant(…, 'admin')`.
function closeReasonsInSource(dir: string): string[] {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const match of text.matchAll(/\b(?:close|closeGrant)\([^;]*?,\s*'([^']+)'\)/g)) found.add(match[1] ?? '');
  }
  return [...found].sort();
}

describe('close reasons and door names', () => {
  // A close decision's `by` is a door's name or a reason: the fleet tells them apart by name.
  it('no door can be named like a reason the code closes a grant for', () => {
    const reasons = closeReasonsInSource(join(import.meta.dirname, '../../src'));
    expect(reasons).toEqual(expect.arrayContaining(['admin', 'logout', 'revoked']));
    const doorsNamed = (reason: string): string => `[${reason}]\nsequence = 1,2\n[openSSH]\nsequence = 3,4\n`;
    expect(reasons.filter((reason) => configProblems(doorsNamed(reason)).length === 0)).toEqual([]);
  });
});
