import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKernLog } from '../../bench/generate-kern-log.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath, demoConfigPath } from '../../src/runtime/package-paths.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { seededRandom } from '../helpers/seeded-random.js';

const START = Date.parse('2026-11-22T00:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'kw-batches-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every decision of `lines` read in batches of the sizes `sizes` gives, in order.
function decisionsOf(lines: readonly string[], sizes: () => number): string[] {
  const decisions: string[] = [];
  const pipeline = new Pipeline(loadConfigFile(demoConfigPath()), (decision) => decisions.push(JSON.stringify(decision)));
  const parse = createLineParser(loadFilterFile(builtinFilterPath('netfilter')), createSyslogTimeParser({ timeZone: 'UTC', reference: START }));
  for (let at = 0; at < lines.length;) {
    const next = Math.min(lines.length, at + sizes());
    pipeline.handleLines(lines.slice(at, next), parse);
    at = next;
  }
  return decisions;
}

// Where a log's reads end depends on the reader (a file's chunks, a pipe, the follower's
// wakeups), not on the log: the decisions, and their order, must not.
describe('the same lines in other batches', () => {
  it('make the same decisions in the same order', async () => {
    const log = join(dir, 'kern.log');
    await generateKernLog(log, { lines: 60_000, sources: 20_000, logShare: 0.7, doorShare: 1, ipv6Share: 0.2, start: START, linesPerSecond: 30 });
    const lines = readFileSync(log, 'latin1').split('\n').slice(0, -1);
    const whole = decisionsOf(lines, () => lines.length);
    expect(whole.length).toBeGreaterThan(20_000);
    expect(decisionsOf(lines, () => 4096)).toEqual(whole);
    const random = seededRandom(7);
    expect(decisionsOf(lines, () => 1 + random(600))).toEqual(whole);
  });
});
