import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { FirewallKind } from '../../src/config/types.js';
import { createBackend } from '../../src/firewall/select-backend.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { systemClock } from '../../src/runtime/clock.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { builtinFilterPath, packageRoot } from '../../src/runtime/package-paths.js';
import { saveState } from '../../src/runtime/state-file.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { knockThroughReloads, T0 } from '../helpers/reload-race.js';
import { waitFor } from './helpers/lab.js';

// The daemon against real nft and iptables in a namespace of this suite's own, log lines
// written by the test: what a start that cannot run, a reload storm, drift and long
// lifetimes do to the real ruleset.
const missing = missingPrerequisites(['ip', 'nft', 'iptables', 'ip6tables', 'iptables-restore', 'iptables-save'], true);
explainSkip('end-to-end firewall safety tests', missing);

const BIN = join(packageRoot(), 'dist/src/cli/bin.js');
const filter = loadFilterFile(builtinFilterPath('netfilter'));
const authFilter = loadFilterFile(builtinFilterPath('sshd'));

describe.skipIf(missing.length > 0)('the real firewall stays true', () => {
  let ns: Namespace;
  let dir: string;
  const daemons: Daemon[] = [];
  beforeAll(() => {
    ns = createNamespace(`kwe2e-safe-${process.pid}`);
    dir = mkdtempSync(join(tmpdir(), 'kw-safety-'));
    // The admin's own table, which knockwatch must never touch.
    ns.exec('nft', ['add table inet admin; add chain inet admin input { type filter hook input priority 0; policy accept; }; add rule inet admin input tcp dport 22 accept']);
  });
  afterAll(() => {
    for (const daemon of daemons) daemon.halt();
    ns?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const ruleset = (): string => ns.exec('nft', ['list', 'ruleset']) + ns.exec('iptables-save', []).replace(/^#.*\n/gm, '');
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it.each([
    { what: 'no kernel source (kernel_source = none)', extra: 'kernel_source = none\n', code: 2 },
    { what: 'a kern_log that does not exist', extra: 'kern_log = /nonexistent/kern.log\n', code: 1 },
    { what: 'an auth_log that does not exist', extra: 'kern_log = KERN\nauth_log = /nonexistent/auth.log\n', code: 1 },
  ])('a config with $what changes nothing and exits $code (nftables and iptables)', ({ extra, code }) => {
    const kern = write('present-kern.log', '');
    for (const firewall of ['nftables', 'iptables']) {
      const config = write(`bad-${firewall}.ini`, `[options]\nfirewall = ${firewall}\n${extra.replace('KERN', kern)}[openSSH]\nsequence = 7000,8000,9000\nopen = 22/tcp\n`);
      const before = ruleset();
      for (const command of ['check', 'run']) {
        const result = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, BIN, command, '--config', config, '--state-file', join(dir, 'bad-state.json')],
          { encoding: 'utf8', timeout: 20_000 });
        expect(result.status, result.stderr).toBe(code);
      }
      expect(ruleset()).toBe(before);
    }
  });

  function daemonFor(kind: FirewallKind, configText: string, log: string, state: string, clock = systemClock): Daemon {
    const configPath = write(`${kind}.ini`, configText);
    const daemon = new Daemon(
      { configPath, kernLog: log, stateFile: state, firewall: kind },
      { clock, runner: ns.runner, filter, authFilter, logger: { log: () => undefined },
        createBackend: (chosen, config) => createBackend(chosen, config, ns.runner) },
      loadConfigFile(configPath, kind),
    );
    daemons.push(daemon);
    return daemon;
  }

  const grantedInFirewall = (kind: FirewallKind): string[] => {
    if (kind === 'nftables') {
      const set = JSON.parse(ns.exec('nft', ['-j', 'list', 'set', 'inet', 'knockwatch', 'grant4_0'])) as { nftables: { set?: { elem?: unknown[] } }[] };
      const elements = set.nftables.find((item) => item.set)?.set?.elem ?? [];
      return elements.map((elem) => (typeof elem === 'string' ? elem : (elem as { elem: { val: string } }).elem.val)).sort();
    }
    return ns.exec('iptables', ['-w', '-S', 'KNOCKWATCH']).split('\n')
      .filter((line) => line.includes('knockwatch:open') && line.includes('-j ACCEPT'))
      .map((line) => /-s (\S+)\/32/.exec(line)?.[1] ?? '?').sort();
  };

  it.each(['nftables', 'iptables'] as const)('50 reloads during 600 knocks leave 0 orphaned rules and 0 grants closed early (%s)', async (kind) => {
    const log = write(`race-${kind}.log`, '');
    const daemon = daemonFor(kind, '[options]\nlog_prefix = KNOCK\n[open]\nsequence = 7000,8000,9000:udp\nseq_timeout = 5\nopen_for = 1h\n', log, join(dir, `race-${kind}.json`), { now: () => T0 });
    await daemon.start();
    const sources = await knockThroughReloads(daemon, log, 200, 12);
    expect(daemon.grants().map((grant) => grant.src).sort()).toEqual([...sources].sort());
    expect(grantedInFirewall(kind)).toEqual([...sources].sort());
    await daemon.stop('SIGTERM');
    ns.exec(process.execPath, [BIN, 'flush']);
  }, 120_000);

  it.each(['nftables', 'iptables'] as const)('puts a flushed table or a deleted rule back by itself, grants included (%s)', async (kind) => {
    const log = write(`drift-${kind}.log`, '');
    const state = join(dir, `drift-${kind}.json`);
    // A live grant from the last run, so the repair has one to put back.
    const now = Date.now();
    saveState(state, {
      version: 1, grants: [{ src: '203.0.113.7', door: 'open', opened: now - 1000, expires: now + 3_600_000 }],
      bans: [], pendingCloses: [], oneTimeUsed: {}, logs: {},
    });
    const daemon = daemonFor(kind, '[options]\nlog_prefix = KNOCK\nwhitelist = 192.0.2.10\n[open]\nsequence = 7000,8000,9000:udp\nseq_timeout = 5\nopen_for = 1h\n', log, state);
    await daemon.start();
    // An nft element's timeout and expiry count down, and sets a repair keeps (the per-source
    // limits) are listed before those it makes anew; the rest must come back as it was.
    const installed = (): string => (kind === 'nftables'
      ? setsSorted(ns.exec('nft', ['list', 'table', 'inet', 'knockwatch']).replace(/ (?:timeout|expires) [\dhmsd]+/g, ''))
      : ns.exec('iptables', ['-w', '-S', 'KNOCKWATCH']));
    expect(grantedInFirewall(kind)).toEqual(['203.0.113.7']);
    const intact = installed();
    const tamper = kind === 'nftables'
      ? [['nft', 'flush table inet knockwatch'], ['nft', 'flush set inet knockwatch whitelist4']]
      : [['iptables', '-w -F KNOCKWATCH'], ['iptables', '-w -D KNOCKWATCH -p tcp -m tcp --dport 22 -m comment --comment knockwatch:gate -j DROP']];
    for (const [file = '', args = ''] of tamper) {
      ns.exec(file, args.split(' '));
      expect(installed()).not.toBe(intact);
      // The daemon verifies every 2 s; the bound leaves a slow machine room.
      await waitFor('the repair', () => installed() === intact, 15_000, 100).catch((error: Error) => {
        throw new Error(`${error.message} after ${file} ${args}:\n${installed()}\ninstead of\n${intact}`);
      });
    }
    await daemon.stop('SIGTERM');
    ns.exec(process.execPath, [BIN, 'flush']);
  }, 60_000);

  it('installs grants and bans of days and keeps them across a restart (nftables)', async () => {
    const now = Date.now();
    const state = join(dir, 'long.json');
    saveState(state, {
      version: 1,
      grants: [{ src: '203.0.113.7', door: 'open', opened: now - 1000, expires: now + 3 * 86_400_000 }],
      bans: [{ src: '198.51.100.9', until: now + 2.5 * 86_400_000, offenses: 9 }],
      pendingCloses: [], oneTimeUsed: {}, logs: {},
    });
    const log = write('long.log', '');
    const config = '[options]\nlog_prefix = KNOCK\nbantime_max = 7d\n[open]\nsequence = 7000,8000\nopen_for = 3d\n';
    const first = daemonFor('nftables', config, log, state);
    await first.start();
    const table = (): string => ns.exec('nft', ['list', 'table', 'inet', 'knockwatch']);
    expect(table()).toMatch(/203\.0\.113\.7 timeout 2d23h/);
    expect(table()).toMatch(/198\.51\.100\.9 timeout 2d11h/);
    await first.stop('SIGTERM');
    const second = daemonFor('nftables', config, log, state);
    await second.start();
    expect(second.grants().map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(table()).toMatch(/203\.0\.113\.7 timeout 2d23h/);
    expect(table()).toMatch(/198\.51\.100\.9 timeout 2d11h/);
    // Whitelisting a banned address and reloading lifts the ban in the firewall too.
    writeFileSync(join(dir, 'nftables.ini'), config.replace('[options]\n', '[options]\nwhitelist = 198.51.100.0/24\n'));
    expect(await second.reload()).toBe(true);
    await second.settle();
    expect(table()).not.toContain('198.51.100.9 timeout');
    await second.stop('SIGTERM');
    ns.exec(process.execPath, [BIN, 'flush']);
  }, 60_000);
});

// An nft table listing with its sets in name order (their order means nothing to nft).
function setsSorted(listing: string): string {
  const set = /^\tset \S+ \{\n[\s\S]*?\n\t\}\n\n?/gm;
  return [...[...listing.matchAll(set)].map((match) => match[0].trimEnd()).sort(), listing.replace(set, '')].join('\n');
}
