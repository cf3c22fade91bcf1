import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { findProgram } from '../../src/firewall/select-backend.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// Every firewall call succeeds and is recorded, nothing runs.
function recorder(): { runner: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    runner: { run: async (file, args) => { calls.push([file, ...args].join(' ')); return { exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }; } },
  };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('commands use the clock, runner and signals they are given', () => {
  it('run: the daemon logs with the given clock and changes the firewall through the given runner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-deps-'));
    dirs.push(dir);
    const log = join(dir, 'kern.log');
    writeFileSync(log, '');
    const config = join(dir, 'knockwatch.ini');
    writeFileSync(config, '[options]\nfirewall = nftables\n[open]\nsequence = 7000,8000\n');
    const signals = new EventEmitter();
    const { runner, calls } = recorder();
    const fixed = Date.parse('2031-05-06T07:08:09.000Z');
    let stderr = '';
    const exit = main(['run', '--config', config, '--log', log, '--state-file', join(dir, 'state.json')],
      { stdout: { write: () => undefined }, stderr: { write: (text) => { stderr += text; } }, env: {}, signals, runner, clock: { now: () => fixed } });
    await until('the daemon to start', () => stderr.includes('Started with'));
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await exit).toBe(0);
    const stamps = new Set(stderr.trim().split('\n').map((text) => text.split(' ')[0]));
    expect([...stamps]).toEqual(['2031-05-06T07:08:09.000Z']);
    expect(calls.filter((call) => call.startsWith('nft -f -'))).toHaveLength(1);
  });

  it.skipIf(findProgram('nft') === undefined)('flush: removes the nftables table through the given runner', async () => {
    const { runner, calls } = recorder();
    let stdout = '';
    const code = await main(['flush'], { stdout: { write: (text) => { stdout += text; } }, stderr: { write: () => undefined }, env: {}, runner });
    expect(code).toBe(0);
    expect(calls).toContain('nft delete table inet knockwatch');
    expect(stdout).toContain('Removed nftables table inet knockwatch');
  });
});
