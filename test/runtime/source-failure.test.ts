import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import type { SourceProbes } from '../../src/runtime/source-choice.js';
import { StartError } from '../../src/runtime/preflight.js';
import { KmsgSource } from '../../src/sources/kmsg-source.js';
import { kernLine } from '../helpers/reload-race.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const X = '203.0.113.7';
const DOOR = '[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\n';
const noCommands: CommandRunner = { run: async () => ({ exitCode: 1, stdout: '', stderr: '', failed: true, reason: 'no commands' }) };
// A machine whose /dev/kmsg passes the checks (and then fails to open: see the spy).
const probes: SourceProbes = { kmsgReadable: () => undefined, journalHasSshd: async () => false, journalctlPath: () => undefined, journalUnreadable: async () => undefined, fileExists: () => false };

const dirs: string[] = [];
const daemons: Daemon[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const daemon of daemons.splice(0)) daemon.halt();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(options: (log: string) => string): { daemon: Daemon; dir: string; log: string; record: () => string[]; messages: string[]; configPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kw-source-failure-'));
  dirs.push(dir);
  const configPath = join(dir, 'knockwatch.ini');
  const log = join(dir, 'kern.log');
  writeFileSync(log, '');
  writeFileSync(configPath, `[options]\nfirewall = dry-run\nauth_source = none\n${options(log)}${DOOR}`);
  const recordFile = join(dir, 'record');
  const messages: string[] = [];
  const daemon = new Daemon(
    { configPath, stateFile: join(dir, 'state.json'), dryRunFile: recordFile },
    { clock: { now: () => T0 }, runner: noCommands, probes, logger: { log: (level, message) => messages.push(`${level} ${message}`) },
      filter: loadFilterFile(builtinFilterPath('netfilter')), authFilter: loadFilterFile(builtinFilterPath('sshd')) },
    loadConfigFile(configPath),
  );
  daemons.push(daemon);
  return { daemon, dir, log, messages, configPath, record: () => (existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim().split('\n') : []) };
}

describe('a source that passed the checks and then cannot start', () => {
  it('at start: the ruleset just installed is taken out again and the start fails', async () => {
    vi.spyOn(KmsgSource.prototype, 'start').mockImplementation(() => { throw new Error('/dev/kmsg cannot be opened: EIO'); });
    const { daemon, record } = setup(() => 'kernel_source = kmsg\n');
    const started = daemon.start();
    await expect(started).rejects.toBeInstanceOf(StartError);
    await expect(started).rejects.toThrow('/dev/kmsg cannot be opened: EIO (the dry-run ruleset was taken out again)');
    expect(record()).toEqual(['start 0', 'remove']);
  });

  it('on reload: the sources before keep reading, and the log says so', async () => {
    const { daemon, log, messages, configPath } = setup((path) => `kernel_source = file:${path}\n`);
    await daemon.start();
    vi.spyOn(KmsgSource.prototype, 'start').mockImplementation(() => { throw new Error('/dev/kmsg cannot be opened: EIO'); });
    writeFileSync(configPath, readFileSync(configPath, 'utf8').replace(/kernel_source = file:.*\n/, 'kernel_source = kmsg\n'));
    expect(await daemon.reload()).toBe(true);
    expect(messages.at(-2)).toBe("error The new config's sources did not start (/dev/kmsg cannot be opened: EIO); still reading the ones before.");
    expect(daemon.status().sources.map((source) => source.name)).toEqual([log]);
    appendFileSync(log, kernLine(T0 + 100, X, '7000', 41000) + kernLine(T0 + 200, X, '8000', 41001));
    daemon.poll();
    await daemon.settle();
    expect(daemon.grants().map((grant) => grant.src)).toEqual([X]);
  });
});
