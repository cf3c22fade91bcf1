import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';

// Runs on dist/ (npm run build first), in a child process of its own so that its peak RSS
// is its own.
describe('what the engine keeps holds no reference into a read buffer', () => {
  it('2,000 sources past their first step, each read from its own ~1 MB chunk, stay under 150 MB peak RSS', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', join(packageRoot(), 'test/engine/fixtures/stepped-sources.mjs')], { encoding: 'utf8' });
    const { tracked, maxRss } = JSON.parse(out) as { tracked: number; maxRss: number };
    expect(tracked).toBe(2000);
    // Keeping the slices kept every chunk: 1,128 MB on the code before the copies.
    expect(maxRss).toBeLessThan(150);
  }, 60_000);
});
