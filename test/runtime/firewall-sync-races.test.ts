import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import type { FirewallBackend } from '../../src/firewall/backend.js';
import { FirewallSync } from '../../src/runtime/firewall-sync.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { emptyState } from '../../src/runtime/state-file.js';
import { config, knock } from '../helpers/engine.js';

const X = '203.0.113.7';
const INI = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\nstart_command = /bin/fw add %IP%\nstop_command = /bin/fw del %IP%\n';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

// A pipeline whose decisions go to a FirewallSync on `backend`.
function setup(backend: FirewallBackend): { sync: FirewallSync; pipeline: Pipeline } {
  const cfg = config(INI);
  const sync: FirewallSync = new FirewallSync({
    clock: { now: () => 1000 },
    emit: () => undefined,
    pipeline: () => pipeline,
    configFile: () => 'knockwatch.ini',
    portsOf: () => cfg.doors[0]?.open ?? [],
    changed: () => undefined,
    save: () => true,
  });
  const pipeline: Pipeline = new Pipeline(cfg, (decision: Decision) => sync.apply(decision));
  sync.use(backend, emptyState());
  return { sync, pipeline };
}

function knockOpen(pipeline: Pipeline, at: number): void {
  pipeline.handleEvent(knock({ src: X, port: '7000', at }));
  pipeline.handleEvent(knock({ src: X, port: '8000', at: at + 0.5 }));
}

// A runner that fails the commands `fails` says, and records every command it is given.
function commands(fails: (line: string, count: number) => boolean): { runner: CommandRunner; ran: string[] } {
  const ran: string[] = [];
  const runner: CommandRunner = {
    run: async (file, args) => {
      const line = [file, ...args].join(' ');
      ran.push(line);
      const failed = fails(line, ran.filter((earlier) => earlier === line).length);
      return { exitCode: failed ? 1 : 0, stdout: '', stderr: '', failed, reason: failed ? 'exit code 1' : '' };
    },
  };
  return { runner, ran };
}

describe('firewall sync races', () => {
  it('does not run a closed grant\'s start command again for a later grant of the same address', async () => {
    // The first start command fails; its retry waits 1 s.
    const { runner, ran } = commands((line, count) => line === `/bin/fw add ${X}` && count === 1);
    const s = setup(new CommandBackend(config(INI).doors, runner, new DryRunBackend(), (program) => program));
    knockOpen(s.pipeline, 0);
    await s.sync.settle();
    // Closed meanwhile (its stop command runs), then opened afresh, which works.
    s.pipeline.closeGrant(X, 'open', 2000, 'admin');
    knockOpen(s.pipeline, 3);
    await s.sync.settle();
    expect(ran).toEqual([`/bin/fw add ${X}`, `/bin/fw del ${X}`, `/bin/fw add ${X}`]);
    // The first grant's retry is due: that grant is gone, the new one is in.
    await vi.advanceTimersByTimeAsync(120_000);
    await s.sync.settle();
    expect(ran).toEqual([`/bin/fw add ${X}`, `/bin/fw del ${X}`, `/bin/fw add ${X}`]);
    // One stop command undoes the one start command in force.
    await s.sync.stopGrants();
    expect(ran).toEqual([`/bin/fw add ${X}`, `/bin/fw del ${X}`, `/bin/fw add ${X}`, `/bin/fw del ${X}`]);
  });

  it('runs one start command when a grant is opened, closed and opened again while the queue is busy', async () => {
    const { runner, ran } = commands(() => false);
    const s = setup(new CommandBackend(config(INI).doors, runner, new DryRunBackend(), (program) => program));
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    void s.sync.exclusive(async () => await gate);
    knockOpen(s.pipeline, 0);
    s.pipeline.closeGrant(X, 'open', 2000, 'admin');
    knockOpen(s.pipeline, 3);
    release();
    await s.sync.settle();
    expect(ran).toEqual([`/bin/fw add ${X}`]);
    await s.sync.stopGrants();
    expect(ran).toEqual([`/bin/fw add ${X}`, `/bin/fw del ${X}`]);
  });

  it('tries a failed close once more on a stop, before the backend stops, and not again', async () => {
    const recorded: string[] = [];
    // A backend whose rules do not expire by themselves (iptables): its first close fails.
    const backend = Object.assign(new DryRunBackend(), {
      close: async (grant: { src: string }) => {
        recorded.push(`close ${grant.src}`);
        if (recorded.filter((line) => line.startsWith('close')).length === 1) throw new Error('busy');
      },
      stop: async (grants: readonly { src: string }[]) => { recorded.push(`stop ${grants.map((grant) => grant.src).join(',')}`); },
    });
    const s = setup(backend);
    knockOpen(s.pipeline, 0);
    await s.sync.settle();
    s.pipeline.closeGrant(X, 'open', 2000, 'logout');
    await s.sync.settle();
    expect(recorded).toEqual([`close ${X}`]);
    // SIGTERM while the retry waits: stop() would leave that rule behind, the grant being gone.
    await s.sync.stopGrants();
    expect(recorded).toEqual([`close ${X}`, `close ${X}`, 'stop ']);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(recorded).toEqual([`close ${X}`, `close ${X}`, 'stop ']);
  });

  it('does not put back an earlier ban\'s end over a later ban of the same address', async () => {
    const recorded: string[] = [];
    // nftables writes a ban's end into its set element: the first ban fails once.
    const backend = Object.assign(new DryRunBackend(), {
      ban: async (ban: { src: string; until: number }) => {
        recorded.push(`ban ${ban.src} until ${ban.until}`);
        if (recorded.length === 1) throw new Error('busy');
      },
      unban: async (src: string) => { recorded.push(`unban ${src}`); },
    });
    const s = setup(backend);
    const ban = (until: number): void => {
      s.pipeline.restore([], [{ src: X, until, offenses: 1 }], 1000);
      s.sync.apply({ type: 'banned', time: 1000, src: X, until, failures: 5, offense: 1 });
    };
    ban(60_000);
    await s.sync.settle();
    // An admin's unban, then a ban that lasts longer, while the first one's retry waits.
    s.pipeline.unban(X, 1000);
    ban(600_000);
    await s.sync.settle();
    await vi.advanceTimersByTimeAsync(120_000);
    await s.sync.settle();
    expect(recorded).toEqual([`ban ${X} until 60000`, `unban ${X}`, `ban ${X} until 600000`]);
  });
});
