import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';

// Runs on dist/ (npm run build first), in a child process of its own so that its peak RSS
// is its own.
describe('what the engine keeps holds no reference into a read buffer', () => {
  // Keeping the slices kept every chunk: 1,128 MB on the code before the copies, 2 GB without
  // ownCopy for sources past their first step.
  it.each([
    ['past their first step', 'steps'],
    ['trapped', 'trap'],
  ])('2,000 sources %s, each read from its own ~1 MB chunk, stay under 150 MB peak RSS', (_what, mode) => {
    const out = execFileSync(process.execPath, ['--expose-gc', join(packageRoot(), 'test/engine/fixtures/kept-sources.mjs'), mode], { encoding: 'utf8' });
    const { tracked, maxRss } = JSON.parse(out) as { tracked: number; maxRss: number };
    expect(tracked).toBe(2000);
    expect(maxRss).toBeLessThan(150);
  }, 60_000);
});
