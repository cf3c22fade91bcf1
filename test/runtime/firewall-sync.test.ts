import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import type { FirewallBackend } from '../../src/firewall/backend.js';
import { FirewallSync } from '../../src/runtime/firewall-sync.js';
import { VERIFY_EVERY } from '../../src/runtime/firewall-verify.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { emptyState } from '../../src/runtime/state-file.js';
import { config, knock } from '../helpers/engine.js';

const X = '203.0.113.7';
const INI = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\nstart_command = /bin/fw add %IP%\nstop_command = /bin/fw del %IP%\n';

// A pipeline whose decisions go to a FirewallSync on `backend`, with X granted `open`.
// `written` says whether a state write works (it is asked at each write).
function setup(backend: FirewallBackend, written: () => boolean = () => true): { sync: FirewallSync; pipeline: Pipeline; messages: string[]; saves: () => number; changes: () => number } {
  const messages: string[] = [];
  let saves = 0;
  let changes = 0;
  const cfg = config(INI);
  const sync: FirewallSync = new FirewallSync({
    clock: { now: () => 1000 },
    emit: (event) => messages.push(`${event.level} ${event.message}`),
    pipeline: () => pipeline,
    configFile: () => 'knockwatch.ini',
    portsOf: () => cfg.doors[0]?.open ?? [],
    changed: () => { changes++; },
    save: () => { saves++; return written(); },
  });
  const pipeline: Pipeline = new Pipeline(cfg, (decision: Decision) => sync.apply(decision));
  sync.use(backend, emptyState());
  pipeline.handleEvent(knock({ src: X, port: '7000', at: 0 }));
  pipeline.handleEvent(knock({ src: X, port: '8000', at: 0.5 }));
  return { sync, pipeline, messages, saves: () => saves, changes: () => changes };
}

// A promise to hold the firewall queue with, and what lets it go.
function gated(): { gate: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  return { gate, release };
}

function commands(): { runner: CommandRunner; ran: string[] } {
  const ran: string[] = [];
  return { ran, runner: { run: async (file, args) => { ran.push([file, ...args].join(' ')); return { exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }; } } };
}

describe('firewall sync', () => {
  it('applies a decision and says so once it is in force', async () => {
    const recorded: string[] = [];
    const backend = Object.assign(new DryRunBackend(), { open: async () => { recorded.push('open'); } });
    const s = setup(backend);
    expect(s.changes()).toBe(1);
    const said = (): string[] => s.messages.filter((message) => !message.startsWith('debug'));
    expect(said()).toEqual([]);
    await s.sync.settle();
    expect(recorded).toEqual(['open']);
    expect(said()).toEqual([`notice Opened 22/tcp for ${X} (door open, 30s).`]);
  });

  it('journals a start command before it runs, for a backend that runs commands', async () => {
    const { runner, ran } = commands();
    const s = setup(new CommandBackend(config(INI).doors, runner, new DryRunBackend(), (program) => program));
    await s.sync.settle();
    expect(ran).toEqual([`/bin/fw add ${X}`]);
    expect(s.saves()).toBe(1);
    expect(s.sync.saved(s.pipeline.grants()).grants.map((grant) => grant.started)).toEqual([true]);
    // On stop, its stop command runs and the grant is forgotten.
    await s.sync.stopGrants();
    expect(ran).toEqual([`/bin/fw add ${X}`, `/bin/fw del ${X}`]);
    expect(s.pipeline.grants()).toEqual([]);
  });

  it('runs no start command while the state file cannot record it, and runs it once it can', async () => {
    const { runner, ran } = commands();
    let writable = false;
    const s = setup(new CommandBackend(config(INI).doors, runner, new DryRunBackend(), (program) => program), () => writable);
    await s.sync.settle();
    // A crash now would leave no record of the rule, and its stop command would never run.
    expect(ran).toEqual([]);
    expect(s.sync.saved(s.pipeline.grants()).grants.map((grant) => grant.started)).toEqual([undefined]);
    expect(s.messages.filter((message) => message.includes('open of open'))[0]).toMatch(/state file could not be written/);
    // Written now: the waiting retry runs it (a stop gives it that last try), and the stop undoes it.
    writable = true;
    await s.sync.stopGrants();
    expect(ran).toEqual([`/bin/fw add ${X}`, `/bin/fw del ${X}`]);
  });

  it('journals nothing for a backend that does not run commands', async () => {
    const s = setup(new DryRunBackend());
    await s.sync.settle();
    expect(s.saves()).toBe(0);
    expect(s.sync.saved(s.pipeline.grants()).grants.map((grant) => grant.started)).toEqual([undefined]);
  });

  it('verifies every VERIFY_EVERY, records the outcome and repairs', async () => {
    const calls: string[] = [];
    let installed = true;
    const backend = Object.assign(new DryRunBackend(), {
      verify: async () => installed,
      start: async (grants: readonly { src: string }[]) => { calls.push(`start ${grants.map((grant) => grant.src).join(',')}`); },
    });
    const s = setup(backend);
    await s.sync.install(0, { liftedBans: [], dropped: [] });
    s.sync.tick(VERIFY_EVERY - 1);
    await s.sync.settle();
    expect(s.sync.lastVerify).toBeUndefined();
    installed = false;
    s.sync.tick(VERIFY_EVERY);
    await s.sync.settle();
    expect(s.sync.lastVerify).toEqual({ at: 1000, ok: false });
    expect(calls).toEqual([`start ${X}`, `start ${X}`]);
    expect(s.messages).toContain('warning The dry-run ruleset is not what knockwatch installed (flushed or edited by someone else?); installing it again.');
  });

  // A restart that changed `firewall =`: the other kind's gate would drop what this one grants.
  it('removes what a run with another firewall kind left once its own ruleset is in, and runs on when it cannot', async () => {
    const calls: string[] = [];
    const removing = (result: () => Promise<string | undefined>): DryRunBackend => Object.assign(new DryRunBackend(), {
      start: async () => { calls.push('start'); },
      removeOtherKind: async () => { calls.push('remove other'); return await result(); },
    });
    const left = setup(removing(async () => 'iptables/ip6tables chain KNOCKWATCH'));
    await left.sync.install(0, { liftedBans: [], dropped: [] });
    expect(calls).toEqual(['start', 'remove other']);
    expect(left.messages).toContain('notice Removed the iptables/ip6tables chain KNOCKWATCH, left by a run with another firewall =: its gate would drop what dry-run grants.');
    const nothing = setup(removing(async () => undefined));
    await nothing.sync.install(0, { liftedBans: [], dropped: [] });
    expect(nothing.messages.filter((message) => message.includes('another firewall'))).toEqual([]);
    const failing = setup(removing(async () => { throw new Error('iptables: Permission denied'); }));
    await failing.sync.install(0, { liftedBans: [], dropped: [] });
    expect(failing.messages.filter((message) => message.includes('another firewall'))).toEqual([
      'error Could not remove what a run with another firewall = left (iptables: Permission denied): its gate drops what dry-run grants, so only the whitelist gets in until it is removed by hand.',
    ]);
  });

  it('gives up with the backend\'s own repair hint', () => {
    const { runner } = commands();
    const hints = [new DryRunBackend('/tmp/record'), new CommandBackend([], runner, new DryRunBackend())].map((backend) => backend.repairHint('/etc/knockwatch/knockwatch.ini'));
    expect(hints).toEqual([
      'Check that /tmp/record can be written, then reload knockwatch.',
      'Check the door\'s commands in /etc/knockwatch/knockwatch.ini (run one by hand with an address for %IP%), then reload knockwatch.',
    ]);
  });
  it('does not reinstall during a stop when a verify queued before it finds a difference', async () => {
    const calls: string[] = [];
    const backend = Object.assign(new DryRunBackend(), {
      verify: async () => false,
      start: async () => { calls.push('start'); },
      stop: async () => { calls.push('stop'); },
    });
    const s = setup(backend);
    await s.sync.install(0, { liftedBans: [], dropped: [] });
    await s.sync.settle();
    calls.length = 0;
    // A slow change holds the queue; the verify waits behind it, then the stop begins.
    const { gate, release } = gated();
    void s.sync.exclusive(async () => await gate);
    s.sync.tick(VERIFY_EVERY);
    const stopped = s.sync.stopGrants();
    release();
    await stopped;
    expect(calls).toEqual(['stop']);
  });

  it('a stop waits for the changes that work queued while the stop was already waiting', async () => {
    const recorded: string[] = [];
    const backend = Object.assign(new DryRunBackend(), {
      close: async (grant: { src: string }) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        recorded.push(`close ${grant.src}`);
      },
      stop: async () => { recorded.push('stop'); },
    });
    const s = setup(backend);
    await s.sync.settle();
    const { gate, release } = gated();
    void s.sync.exclusive(async () => await gate);
    // An admin's close, queued before the stop: its decision queues the change only once it runs.
    const closing = s.sync.exclusiveApplied(() => s.pipeline.closeGrant(X, 'open', 1000, 'admin'));
    const stopped = s.sync.stopGrants();
    release();
    await Promise.all([closing, stopped]);
    expect(recorded).toEqual([`close ${X}`, 'stop']);
  });
});
