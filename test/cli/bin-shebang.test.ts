import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';

const BIN = join(packageRoot(), 'dist/src/cli/bin.js');

// The command runs node without allocation-site pretenuring: under a spoofed flood V8
// otherwise moved some short-lived per-line objects straight to the old generation now and
// then, and peak memory jumped by 40-50 MB in about one run in ten. And with young-generation
// semi-spaces of 8 MB rather than 16: 15-30 MB less at peak for the same CPU. And with half
// the default cumulative inlining budget: a replay is one cold run, and TurboFan compiles the
// hot per-line functions in less CPU (a 200,000-line auth replay ~7% less CPU, a 1M-line one
// ~3%; the same throughput once compiled).
describe('the knockwatch command', () => {
  it('runs node with its flags from the shebang line, and node takes them', () => {
    expect(readFileSync(BIN, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env -S node --no-allocation-site-pretenuring --max-semi-space-size=8 --max-inlined-bytecode-size-cumulative=460');
    const run = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
    expect([run.status, run.stdout.trim(), run.stderr]).toEqual([0, `knockwatch ${(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version}`, '']);
  });
});
