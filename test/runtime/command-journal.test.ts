import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { kernLine, knockLine, T0 } from '../helpers/reload-race.js';

const filter = loadFilterFile(builtinFilterPath('netfilter'));
const authFilter = loadFilterFile(builtinFilterPath('sshd'));
const CONFIG = `[options]
log_prefix = KNOCK
[open]
sequence = 7000,8000,9000:udp
seq_timeout = 5
start_command = /usr/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
cmd_timeout = 30
stop_command = /usr/sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
`;

// iptables as knockd's commands see it: how many ACCEPT rules each address has. Commands
// whose text matches `hold` wait until released (a crash can come in the middle).
function iptablesModel(): { runner: CommandRunner; rules: Map<string, number>; ran: string[]; hold: (pattern: string) => void; held: () => boolean } {
  const rules = new Map<string, number>();
  const ran: string[] = [];
  let pattern: string | undefined;
  let waiting = false;
  return {
    rules, ran,
    hold: (text) => { pattern = text; },
    held: () => waiting,
    runner: {
      run: async (file, args) => {
        const text = [file, ...args].join(' ');
        if (pattern !== undefined && text.includes(pattern)) {
          waiting = true;
          await new Promise(() => undefined);
        }
        ran.push(text);
        const src = args[args.indexOf('-s') + 1] ?? '';
        if (args.includes('-A')) rules.set(src, (rules.get(src) ?? 0) + 1);
        if (args.includes('-D') && (rules.get(src) ?? 0) > 0) rules.set(src, (rules.get(src) ?? 0) - 1);
        return { exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' };
      },
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const DEBIAN = `[options]
log_prefix = KNOCK
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
command = /usr/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
[closeSSH]
sequence = 9000:udp,8000,7000
seq_timeout = 5
command = /usr/sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
`;

function lab(configText = CONFIG): { configPath: string; log: string; clock: { now: () => number; set: (t: number) => void }; daemon: (runner: CommandRunner) => Daemon } {
  const dir = mkdtempSync(join(tmpdir(), 'kw-journal-'));
  dirs.push(dir);
  const log = join(dir, 'kern.log');
  writeFileSync(log, '');
  const configPath = join(dir, 'knockwatch.ini');
  writeFileSync(configPath, configText);
  let now = T0;
  const clock = { now: () => now, set: (t: number) => { now = t; } };
  return {
    configPath, log, clock,
    daemon: (runner) => new Daemon(
      { configPath, kernLog: log, stateFile: join(dir, 'state.json') },
      {
        clock, runner, filter, authFilter, logger: { log: () => undefined },
        createBackend: (_kind, config) => new CommandBackend(config.doors, runner, new DryRunBackend(), (program) => program),
      },
      loadConfigFile(configPath),
    ),
  };
}

// Lets queued firewall work start.
async function turns(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function knock(log: string, src: string): void {
  for (let step = 0; step < 3; step++) appendFileSync(log, knockLine(src, step));
}

// A started daemon on `runner` that has granted 203.0.113.7 the door.
async function granted(l: ReturnType<typeof lab>, runner: CommandRunner): Promise<Daemon> {
  const daemon = l.daemon(runner);
  await daemon.start();
  knock(l.log, '203.0.113.7');
  daemon.poll();
  await daemon.settle();
  return daemon;
}

// The steps from `src`, 300 ms apart from `at`.
function knockSteps(log: string, src: string, at: number, steps: readonly string[]): void {
  appendFileSync(log, steps.map((step, i) => kernLine(at + i * 300, src, step, 42000 + i)).join(''));
}

describe("Debian's knockd.conf with firewall = command, as under knockd", () => {
  it('open, close, open again: the start_command runs on every open knock', async () => {
    const l = lab(DEBIAN);
    const model = iptablesModel();
    const daemon = l.daemon(model.runner);
    await daemon.start();
    knockSteps(l.log, '203.0.113.7', T0 + 1000, ['7000', '8000', '9000/udp']);
    knockSteps(l.log, '203.0.113.7', T0 + 10_000, ['9000/udp', '8000', '7000']);
    knockSteps(l.log, '203.0.113.7', T0 + 20_000, ['7000', '8000', '9000/udp']);
    l.clock.set(T0 + 21_000);
    daemon.poll();
    await daemon.settle();
    expect(model.ran.map((text) => text.split(' ')[1])).toEqual(['-A', '-D', '-A']);
    expect(model.rules.get('203.0.113.7')).toBe(1);
    daemon.halt();
  });
});

describe('knockd commands across crashes (firewall = command)', () => {
  it('never runs a start_command again after kill -9 and restart, twice', async () => {
    const l = lab();
    const model = iptablesModel();
    const first = await granted(l, model.runner);
    expect(model.rules.get('203.0.113.7')).toBe(1);
    for (let crash = 0; crash < 2; crash++) {
      // kill -9: no stop, no state written on the way out.
      l.clock.set(T0 + 5000 + crash * 1000);
      const next = l.daemon(model.runner);
      await next.start();
      next.poll();
      await next.settle();
      expect(next.grants().map((grant) => grant.src)).toEqual(['203.0.113.7']);
      expect(model.rules.get('203.0.113.7')).toBe(1);
      next.halt();
    }
    expect(model.ran.filter((text) => text.includes(' -A '))).toHaveLength(1);
    first.halt();
  });

  it('runs the stop_command owed for a grant that expired while knockwatch was down', async () => {
    const l = lab();
    const model = iptablesModel();
    const first = await granted(l, model.runner);
    first.halt();
    l.clock.set(T0 + 120_000);
    const second = l.daemon(model.runner);
    await second.start();
    await second.settle();
    expect(model.rules.get('203.0.113.7')).toBe(0);
    second.halt();
  });

  it('runs a stop_command that a crash interrupted, after the restart', async () => {
    const l = lab();
    const model = iptablesModel();
    const first = await granted(l, model.runner);
    model.hold(' -D ');
    l.clock.set(T0 + 32_000);
    first.poll();
    await turns();
    expect(model.held()).toBe(true);
    first.halt();
    const rerun = iptablesModel();
    rerun.rules.set('203.0.113.7', 1);
    const second = l.daemon(rerun.runner);
    await second.start();
    await second.settle();
    expect(rerun.rules.get('203.0.113.7')).toBe(0);
    expect(rerun.ran.filter((text) => text.includes(' -A '))).toEqual([]);
    second.halt();
  });

  it('tries every stop_command on a clean stop; one that fails stays owed and runs after the restart', async () => {
    const l = lab();
    let failFor: string | undefined = '203.0.113.7';
    const model = iptablesModel();
    const failing: CommandRunner = {
      run: async (file, args, options) => (failFor !== undefined && args.includes('-D') && args.includes(failFor)
        ? { exitCode: 4, stdout: '', stderr: 'iptables: Resource temporarily unavailable.', failed: true, reason: 'exit status 4' }
        : model.runner.run(file, args, options)),
    };
    const first = l.daemon(failing);
    await first.start();
    knock(l.log, '203.0.113.7');
    knock(l.log, '198.51.100.2');
    first.poll();
    await first.settle();
    await first.stop('SIGTERM');
    expect(model.rules.get('198.51.100.2')).toBe(0);
    expect(model.rules.get('203.0.113.7')).toBe(1);
    failFor = undefined;
    const second = l.daemon(failing);
    await second.start();
    await second.settle();
    expect(model.rules.get('203.0.113.7')).toBe(0);
    second.halt();
  });

  it('runs the stop_command of a grant whose door a reload removes', async () => {
    const l = lab();
    const model = iptablesModel();
    const daemon = await granted(l, model.runner);
    expect(model.rules.get('203.0.113.7')).toBe(1);
    writeFileSync(l.configPath, CONFIG.replace('[open]', '[other]'));
    expect(await daemon.reload()).toBe(true);
    expect(daemon.grants()).toEqual([]);
    expect(model.rules.get('203.0.113.7')).toBe(0);
    daemon.halt();
  });

  it("undoes a grant with the stop_command that matches its start_command when a reload changes the door's commands", async () => {
    const l = lab();
    const model = iptablesModel();
    const daemon = await granted(l, model.runner);
    // The same commands (another key changed): nothing runs again.
    writeFileSync(l.configPath, CONFIG.replace('cmd_timeout = 30', 'cmd_timeout = 40'));
    expect(await daemon.reload()).toBe(true);
    await daemon.settle();
    expect(model.ran).toHaveLength(1);
    writeFileSync(l.configPath, CONFIG.replaceAll('--dport 22 ', '--dport 2222 '));
    expect(await daemon.reload()).toBe(true);
    await daemon.settle();
    // The old stop_command undoes what the old start_command did; the new one opens the
    // grant again, which the new stop_command undoes when it ends.
    expect(daemon.grants().map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(model.ran).toEqual([
      '/usr/sbin/iptables -A INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT',
      '/usr/sbin/iptables -D INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT',
      '/usr/sbin/iptables -A INPUT -s 203.0.113.7 -p tcp --dport 2222 -j ACCEPT',
    ]);
    await daemon.stop('SIGTERM');
    expect(model.ran.at(-1)).toBe('/usr/sbin/iptables -D INPUT -s 203.0.113.7 -p tcp --dport 2222 -j ACCEPT');
    expect(model.rules.get('203.0.113.7')).toBe(0);
  });

  it("keeps the old rule and its stop_command when the old stop_command fails during a reload that changes them", async () => {
    const l = lab();
    const model = iptablesModel();
    let failing = true;
    const runner: CommandRunner = {
      run: async (file, args, options) => {
        if (failing && args.includes('-D')) return { exitCode: 1, stdout: '', stderr: 'iptables: busy', failed: true, reason: 'exit status 1: iptables: busy' };
        return await model.runner.run(file, args, options);
      },
    };
    const daemon = await granted(l, runner);
    writeFileSync(l.configPath, CONFIG.replaceAll('--dport 22 ', '--dport 2222 '));
    expect(await daemon.reload()).toBe(true);
    await daemon.settle();
    // The old rule is still in: no second rule is added by the new start_command.
    expect(model.ran).toEqual(['/usr/sbin/iptables -A INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT']);
    failing = false;
    await daemon.stop('SIGTERM');
    expect(model.ran).toEqual([
      '/usr/sbin/iptables -A INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT',
      '/usr/sbin/iptables -D INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT',
    ]);
    expect(model.rules.get('203.0.113.7')).toBe(0);
  });

  it('runs an owed stop_command as it was when its start_command ran, though the config changed it since', async () => {
    const l = lab();
    const model = iptablesModel();
    let failing = true;
    const runner: CommandRunner = {
      run: async (file, args, options) => {
        if (failing && args.includes('-D')) return { exitCode: 1, stdout: '', stderr: '', failed: true, reason: 'exit status 1' };
        return await model.runner.run(file, args, options);
      },
    };
    const first = await granted(l, runner);
    await first.stop('SIGTERM');
    writeFileSync(l.configPath, CONFIG.replaceAll('--dport 22 ', '--dport 2222 '));
    failing = false;
    const second = l.daemon(runner);
    await second.start();
    await second.settle();
    expect(model.ran.filter((text) => text.includes(' -D '))).toEqual(['/usr/sbin/iptables -D INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT']);
    expect(model.rules.get('203.0.113.7')).toBe(0);
    second.halt();
  });

  it('runs once, after the restart, a start_command that was decided but never begun', async () => {
    const l = lab();
    const model = iptablesModel();
    const first = l.daemon(model.runner);
    await first.start();
    // A's start_command hangs; B's grant is decided and saved but waits behind it.
    model.hold('203.0.113.7');
    knock(l.log, '203.0.113.7');
    knock(l.log, '198.51.100.2');
    first.poll();
    await turns();
    expect(model.held()).toBe(true);
    first.poll();
    first.halt();
    const rerun = iptablesModel();
    const second = l.daemon(rerun.runner);
    await second.start();
    await second.settle();
    // A was recorded as begun: not run again (it may have run). B was not: it runs once.
    expect(rerun.ran.filter((text) => text.includes(' -A '))).toEqual(['/usr/sbin/iptables -A INPUT -s 198.51.100.2 -p tcp --dport 22 -j ACCEPT']);
    second.halt();
  });
});
