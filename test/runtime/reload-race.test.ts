import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { Ban, FirewallBackend } from '../../src/firewall/backend.js';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import type { Grant } from '../../src/access/grant-table.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { knockLine, knockThroughReloads, T0 } from '../helpers/reload-race.js';

const filter = loadFilterFile(builtinFilterPath('netfilter'));
const authFilter = loadFilterFile(builtinFilterPath('sshd'));
const CONFIG = `[options]
log_prefix = KNOCK
[open]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open_for = 30
start_command = /usr/local/bin/fw add %IP%
stop_command = /usr/local/bin/fw del %IP%
`;

// Each firewall call takes a few turns of the event loop, so reloads, knocks and changes
// interleave the way they do with real nft/iptables processes.
async function slow(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

// A firewall that only remembers which addresses it lets in: start() replaces everything.
class ModelBackend implements FirewallBackend {
  readonly name = 'model';
  endsItself(): boolean { return false; }
  readonly runsCommands = false;
  readonly installed = new Set<string>();
  // Addresses taken out by anything but a close: a grant closed early.
  readonly lostByReinstall: string[] = [];
  closes = 0;
  plan(): string { return ''; }
  repairHint(): string { return ''; }
  async probe(): Promise<string | undefined> { return undefined; }
  async exists(): Promise<boolean> { return this.installed.size > 0; }
  async remove(): Promise<void> { this.installed.clear(); }
  async start(grants: readonly Grant[]): Promise<void> {
    await slow();
    const next = new Set(grants.map((grant) => grant.src));
    for (const src of this.installed) if (!next.has(src)) this.lostByReinstall.push(src);
    this.installed.clear();
    for (const src of next) this.installed.add(src);
  }
  async open(grant: Grant): Promise<void> { await slow(); this.installed.add(grant.src); }
  async extend(): Promise<void> { await slow(); }
  async close(grant: Grant): Promise<void> { await slow(); this.closes++; this.installed.delete(grant.src); }
  async ban(_ban: Ban): Promise<void> { await slow(); }
  async unban(): Promise<void> { await slow(); }
  // A clean stop takes out the grants that do not expire by themselves.
  async stop(grants: readonly Grant[]): Promise<void> { for (const grant of grants) this.installed.delete(grant.src); }
  async verify(): Promise<boolean> { return true; }
}

// knockd's commands against a model of iptables: how many ACCEPT rules each address has.
function commandModel(): { runner: CommandRunner; rules: Map<string, number> } {
  const rules = new Map<string, number>();
  return {
    rules,
    runner: {
      run: async (file, args) => {
        await slow();
        const [op, src = ''] = args;
        if (file === '/usr/local/bin/fw' && op === 'add') rules.set(src, (rules.get(src) ?? 0) + 1);
        if (file === '/usr/local/bin/fw' && op === 'del' && (rules.get(src) ?? 0) > 0) rules.set(src, (rules.get(src) ?? 0) - 1);
        return { exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' };
      },
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(): { dir: string; log: string; configPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kw-reload-'));
  dirs.push(dir);
  const log = join(dir, 'kern.log');
  writeFileSync(log, '');
  const configPath = join(dir, 'knockwatch.ini');
  writeFileSync(configPath, CONFIG);
  return { dir, log, configPath };
}

function daemonWith(dir: string, log: string, configPath: string, runner: CommandRunner, backend?: FirewallBackend): Daemon {
  return new Daemon(
    { configPath, kernLog: log, stateFile: join(dir, 'state.json'), firewall: backend === undefined ? 'command' : 'dry-run' },
    {
      clock: { now: () => T0 }, runner, filter, authFilter, logger: { log: () => undefined },
      createBackend: (_kind, config) => backend ?? new CommandBackend(config.doors, runner, new DryRunBackend(), (program) => program),
    },
    loadConfigFile(configPath),
  );
}

// 600 sources through 36 reloads: about 2 s alone, much longer on a loaded machine.
const SLOW = 30_000;

describe('a reload during knocks', () => {
  it('loses no grant and orphans no rule (a ruleset backend: start() replaces everything)', async () => {
    const { dir, log, configPath } = setup();
    const backend = new ModelBackend();
    const none: CommandRunner = { run: async () => ({ exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }) };
    const daemon = daemonWith(dir, log, configPath, none, backend);
    await daemon.start();
    const sources = await knockThroughReloads(daemon, log, 600, 36);
    const granted = daemon.grants().map((grant) => grant.src).sort();
    // Every knock completed, even those a reload came in the middle of.
    expect(granted).toEqual([...sources].sort());
    // 0 orphaned rules, 0 grants closed early.
    expect([...backend.installed].sort()).toEqual(granted);
    expect(backend.lostByReinstall).toEqual([]);
    expect(backend.closes).toBe(0);
    daemon.halt();
  }, SLOW);

  it('runs each start_command exactly once (the command backend)', async () => {
    const { dir, log, configPath } = setup();
    const { runner, rules } = commandModel();
    const daemon = daemonWith(dir, log, configPath, runner);
    await daemon.start();
    const sources = await knockThroughReloads(daemon, log, 600, 36);
    expect(daemon.grants().map((grant) => grant.src).sort()).toEqual([...sources].sort());
    expect([...rules.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect([...rules.keys()].sort()).toEqual([...sources].sort());
    daemon.halt();
  }, SLOW);

  // The saved positions count the lines a reload held: dropped at the stop, they were never
  // read again (a knock lost, a one-time sequence never marked used).
  it.each(['stop', 'rollback'] as const)('decides the lines a reload held when a %s comes before the reload ends', async (end) => {
    const { dir, log, configPath } = setup();
    const backend = new ModelBackend();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const started = backend.start.bind(backend);
    let starts = 0;
    backend.start = async (grants) => { if (++starts === 2) await gate; await started(grants); };
    const none: CommandRunner = { run: async () => ({ exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }) };
    const daemon = daemonWith(dir, log, configPath, none, backend);
    const decided: string[] = [];
    daemon.observe((decision) => decided.push(`${decision.type} ${decision.src}`));
    await daemon.start();
    const X = '198.51.100.77';
    appendFileSync(log, knockLine(X, 0));
    daemon.poll();
    // The new config reads sshd's log too: a source that must not start once the stop began.
    const auth = join(dir, 'auth.log');
    writeFileSync(auth, '');
    writeFileSync(configPath, `${CONFIG.replace('[options]\n', `[options]\nauth_log = ${auth}\n`)}`);
    const reloaded = daemon.reload();
    // The reload waits for its ruleset; these lines wait for it, and a SIGTERM comes meanwhile.
    for (let turn = 0; turn < 500 && starts < 2; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(starts).toBe(2);
    appendFileSync(log, knockLine(X, 1) + knockLine(X, 2));
    daemon.poll();
    expect(decided).toEqual([`step ${X}`]);
    const stopped = end === 'stop' ? daemon.stop('SIGTERM') : daemon.rollback('no proof of access');
    release();
    expect(await Promise.all([reloaded, stopped])).toEqual([true, undefined]);
    expect(daemon.status().sources.map((source) => source.name)).toEqual([log]);
    expect(decided).toEqual([`step ${X}`, `step ${X}`, `step ${X}`, `completed ${X}`, `open ${X}`]);
    // Decided before the stop's own work: its grant is one the stop takes out, not one left
    // in the state file, nor in the firewall.
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { grants: unknown[] };
    expect([daemon.grants(), saved.grants, [...backend.installed]]).toEqual([[], [], []]);
    // And the position saved is past them.
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { logs: Record<string, { offset: number }> };
    expect(Object.values(state.logs).map((position) => position.offset)).toEqual([readFileSync(log).length]);
  });

  it('refuses a reload that changes the firewall kind (the old kind\'s rules would stay)', async () => {
    const { dir, log, configPath } = setup();
    const messages: string[] = [];
    const none: CommandRunner = { run: async () => ({ exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }) };
    const daemon = new Daemon(
      { configPath, kernLog: log, stateFile: join(dir, 'state.json') },
      {
        clock: { now: () => T0 }, runner: none, filter, authFilter, logger: { log: (level, message) => messages.push(`${level} ${message}`) },
        createBackend: (kind) => Object.defineProperty(new ModelBackend(), 'name', { value: kind }),
      },
      loadConfigFile(configPath),
    );
    await daemon.start();
    writeFileSync(configPath, '[options]\nfirewall = nftables\nlog_prefix = KNOCK\n[open]\nsequence = 7000,8000,9000:udp\nopen = 22/tcp\n');
    expect(await daemon.reload()).toBe(false);
    expect(messages.at(-1)).toContain('it changes the firewall from command to nftables; restart knockwatch for that');
    daemon.halt();
  });
});
