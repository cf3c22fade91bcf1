import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import { buildNftRuleset } from '../../src/firewall/nftables.js';
import { buildRestoreScript, buildTurnScript } from '../../src/firewall/iptables.js';
import { buildFirewallPlan, nextPlanTurn, planAt } from '../../src/firewall/plan.js';
import { deriveSequence } from '../../src/doors/rotating.js';
import { nextWindowTurn } from '../../src/doors/rotating.js';
import { FirewallSync } from '../../src/runtime/firewall-sync.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { emptyState } from '../../src/runtime/state-file.js';

const HOUR = 1_699_999_200;
const SECRET = Buffer.from('a long random secret');

function configOf(extra = ''): Config {
  return parseConfig(`[options]\nfirewall = nftables\ntrap_ports = 6000\n[static]\nsequence = 7000,8000\n[openSSH]\nsecret_file = /s\nrotate = 1h\nport_range = 10000-10999\n${extra}\n`,
    'test.ini', undefined, undefined, () => SECRET);
}

const windowPorts = (offset: number): number[] => deriveSequence({ secret: SECRET, door: 'openSSH', windowStart: HOUR + offset * 3600, range: { low: 10000, high: 10999 }, length: 5, protocols: ['tcp'] }).map((step) => step.port);
const logged = (config: Config, now: number): number[] => planAt(buildFirewallPlan(config), now).knockPorts.map((entry) => entry.step.port);
const sorted = (ports: number[]): number[] => [...new Set(ports)].sort((a, b) => a - b);

describe('the knock ports of rotating doors', () => {
  it('logs the ports of the current and skew windows with the fixed ones, never the whole range', () => {
    const config = configOf();
    expect(logged(config, HOUR * 1000 + 5000)).toEqual(sorted([6000, 7000, 8000, ...windowPorts(-1), ...windowPorts(0), ...windowPorts(1)]));
    expect(logged(configOf('skew = 0'), HOUR * 1000 + 5000)).toEqual(sorted([6000, 7000, 8000, ...windowPorts(0)]));
  });

  it('moves on a window when it turns, and says when that is', () => {
    const config = configOf();
    const plan = buildFirewallPlan(config);
    expect(nextPlanTurn(plan, HOUR * 1000 + 5000)).toBe((HOUR + 3600) * 1000);
    expect(nextWindowTurn(config.doors, HOUR * 1000 + 5000)).toBe((HOUR + 3600) * 1000);
    expect(logged(config, (HOUR + 3600) * 1000)).toEqual(sorted([6000, 7000, 8000, ...windowPorts(0), ...windowPorts(1), ...windowPorts(2)]));
  });

  it('logs the whole range of a door bound to the source (each address has its own ports); nothing turns', () => {
    const config = configOf('bind_source = yes');
    expect(logged(config, HOUR * 1000)).toHaveLength(1003);
    expect(nextPlanTurn(buildFirewallPlan(config), HOUR * 1000)).toBe(Infinity);
    expect(nextWindowTurn(config.doors, HOUR * 1000)).toBe(Infinity);
  });

  // A port range match per run of consecutive ports: other doors' ports in the range split it.
  it.each([
    ['', ['6000', '7000', '8000', '10000:10999']],
    ['[other]\nsequence = 10500,10501:udp\n', ['6000', '7000', '8000', '10000:10499', '10500', '10502:10999']],
  ])('logs a bound door\'s range in iptables as a few port ranges, not a rule per port (%#)', (other, runs) => {
    const config = configOf(`bind_source = yes\n${other}`);
    const logRules = buildRestoreScript(planAt(buildFirewallPlan(config), HOUR * 1000), 4, []).split('\n').filter((line) => line.includes('-j LOG'));
    expect(logRules.filter((line) => line.startsWith('-A KNOCKWATCH -p tcp')).map((line) => /--dport (\S+)/.exec(line)?.[1])).toEqual(runs);
  });

  // iptables at a window turn: grant rules (with their connlimit counts) are left alone.
  it('turns the iptables knock rules alone: old ports deleted, new ones and then the gate appended', () => {
    const config = configOf('skew = 0\nopen = 22/tcp');
    const plan = buildFirewallPlan(config);
    const [from, to] = [planAt(plan, HOUR * 1000), planAt(plan, (HOUR + 3600) * 1000)];
    const lines = buildTurnScript(from, to, 4)?.split('\n') ?? [];
    const summary = lines.map((line) => line.replace(/^(-[AD]) KNOCKWATCH -p tcp -m tcp --dport (\d+) .* -j (\w+).*$/, '$1 $2 $3'));
    const [gone, added] = [sorted(windowPorts(0).filter((port) => !windowPorts(1).includes(port))), sorted(windowPorts(1).filter((port) => !windowPorts(0).includes(port)))];
    expect(summary).toEqual(['*filter', ...gone.flatMap((port) => [`-D ${port} LOG`, `-D ${port} DROP`]), '-D 22 DROP',
      ...added.flatMap((port) => [`-A ${port} LOG`, `-A ${port} DROP`]), '-A 22 DROP', 'COMMIT', '']);
    expect(buildTurnScript(from, planAt(plan, HOUR * 1000 + 60_000), 4)).toBeUndefined();
  });

  it('puts the ports of the time into the nft ruleset and the iptables script', () => {
    const config = configOf('skew = 0');
    const plan = buildFirewallPlan(config);
    const now = HOUR * 1000;
    const ports = sorted([7000, 8000, ...windowPorts(0)]);
    expect(buildNftRuleset(planAt(plan, now), [], now)).toContain(`tcp dport { 6000, ${ports.join(', ')} } log prefix "knockwatch " drop comment "knockwatch:knock"`);
    const logRules = buildRestoreScript(planAt(plan, now), 4, []).split('\n').filter((line) => line.includes('-j LOG'));
    expect(logRules.map((line) => Number(/--dport (\d+)/.exec(line)?.[1]))).toEqual([6000, ...ports]);
  });
});

// The daemon's firewall sync on the rotating config, at the clock `now` gives; `starts` are
// the times the ruleset was installed again.
function syncWithStarts(now: () => number): { sync: FirewallSync; starts: number[] } {
  const config = configOf();
  const starts: number[] = [];
  const backend = Object.assign(new DryRunBackend(), { start: async (_grants: unknown, at: number) => { starts.push(at); } });
  const pipeline = new Pipeline(config, () => undefined);
  const sync = new FirewallSync({
    clock: { now }, emit: () => undefined, pipeline: () => pipeline, configFile: () => 'test.ini', portsOf: () => [],
    changed: () => undefined, save: () => true, nextTurn: (at) => nextWindowTurn(config.doors, at),
  });
  sync.use(backend, emptyState());
  return { sync, starts };
}

describe('a window turn in the daemon', () => {
  it('installs the ruleset again (one start) when the window turns, with the grants of the time', async () => {
    let now = HOUR * 1000 + 3_599_000;
    const { sync, starts } = syncWithStarts(() => now);
    sync.tick(now);
    await sync.settle();
    expect(starts).toEqual([]);
    now = (HOUR + 3600) * 1000;
    sync.tick(now);
    sync.tick(now + 250);
    await sync.settle();
    expect(starts).toEqual([(HOUR + 3600) * 1000]);
    now = (HOUR + 7200) * 1000 + 10;
    sync.tick(now);
    await sync.settle();
    expect(starts).toEqual([(HOUR + 3600) * 1000, (HOUR + 7200) * 1000 + 10]);
  });

  it('installs the ruleset of the earlier window at once when the clock goes back into it', async () => {
    let now = (HOUR + 3600) * 1000 + 5000;
    const { sync, starts } = syncWithStarts(() => now);
    // Back within the same window: the ports logged are still those of the time.
    now -= 4000;
    sync.tick(now);
    await sync.settle();
    expect(starts).toEqual([]);
    // Back an hour (the host clock corrected): the knocks of that window must be logged now,
    // not an hour later when the window the ruleset was installed for comes round again.
    now = HOUR * 1000 + 5000;
    sync.tick(now);
    sync.tick(now + 250);
    await sync.settle();
    expect(starts).toEqual([HOUR * 1000 + 5000]);
    now = (HOUR + 3600) * 1000;
    sync.tick(now);
    await sync.settle();
    expect(starts).toEqual([HOUR * 1000 + 5000, (HOUR + 3600) * 1000]);
  });
});
