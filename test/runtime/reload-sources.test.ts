import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { createDaemonLab, type DaemonLab } from '../helpers/daemon.js';
import { kernLine } from '../helpers/reload-race.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const X = '203.0.113.7';
const CONFIG = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\n';

const noCommands: CommandRunner = { run: async () => ({ exitCode: 1, stdout: '', stderr: '', failed: true, reason: 'no commands' }) };
const labs: DaemonLab[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const lab of labs.splice(0)) lab.cleanUp();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('reloads that overlap', () => {
  it('each keep the sources their config chose: the log is still read after both', async () => {
    const h = createDaemonLab(T0, CONFIG);
    labs.push(h);
    const daemon = h.daemon();
    await daemon.start();
    // The second reload prepares its config while the first one installs its ruleset.
    expect(await Promise.all([daemon.reload(), daemon.reload(), daemon.reload()])).toEqual([true, true, true]);
    expect(daemon.status().sources.map((source) => source.name)).toEqual([h.log]);
    await h.feed(daemon, kernLine(T0 + 100, X, '7000', 41000) + kernLine(T0 + 200, X, '8000', 41001));
    expect(daemon.grants().map((grant) => grant.src)).toEqual([X]);
  });
});

describe('a reload that replaces the backend', () => {
  it('lets the old one end the processes it keeps open (the nft channel)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-release-'));
    dirs.push(dir);
    const configPath = join(dir, 'knockwatch.ini');
    const log = join(dir, 'kern.log');
    writeFileSync(log, '');
    writeFileSync(configPath, CONFIG);
    const released: number[] = [];
    let made = 0;
    const daemon = new Daemon(
      { configPath, kernLog: log, stateFile: join(dir, 'state.json') },
      { clock: { now: () => T0 }, runner: noCommands, logger: { log: () => undefined },
        filter: loadFilterFile(builtinFilterPath('netfilter')), authFilter: loadFilterFile(builtinFilterPath('sshd')),
        createBackend: () => {
          const id = ++made;
          return Object.assign(new DryRunBackend(), { release: async () => { released.push(id); } });
        } },
      loadConfigFile(configPath),
    );
    await daemon.start();
    expect(await daemon.reload()).toBe(true);
    expect(await daemon.reload()).toBe(true);
    expect(released).toEqual([1, 2]);
    daemon.halt();
  });
});
