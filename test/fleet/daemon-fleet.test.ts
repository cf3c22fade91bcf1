import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { Decision } from '../../src/engine/decisions.js';
import { startFleet, type FleetLink } from '../../src/fleet/daemon-fleet.js';
import type { StreamEntry } from '../../src/fleet/redis-link.js';
import { Pipeline } from '../../src/runtime/pipeline.js';

const NOW = Date.parse('2026-11-22T09:00:00Z');
const config = parseConfig('[openSSH]\nsequence = 7000,8000\nopen_for = 30\n[fleet]\nredis = redis://10.0.0.1\ngroup = web\nname = b\n', 'k.ini');

// A link that is up, whose snapshot and reads answer when the test says so.
class HeldLink implements FleetLink {
  readonly up = true;
  stopped = false;
  readonly snapshots: ((texts: unknown[]) => void)[] = [];
  readonly reads: ((entries: StreamEntry[]) => void)[] = [];
  start(): void {}
  async whenUp(): Promise<void> {}
  readonly published: unknown[] = [];
  async publish(message: unknown): Promise<boolean> {
    this.published.push(message);
    return true;
  }
  commandFailed(): boolean { return false; }
  async tip(): Promise<string> { return '0-0'; }
  snapshot(): Promise<unknown[]> { return new Promise((resolve) => this.snapshots.push(resolve)); }
  read(): Promise<StreamEntry[]> { return new Promise((resolve) => this.reads.push(resolve)); }
  stop(): void { this.stopped = true; }
}

const grantText = (src: string): string => JSON.stringify({ kind: 'grant', src, door: 'openSSH', expires: NOW + 10_000, origin: 'a' });

// Lets the fleet's reader loop run until `done` holds (at most 100 turns of the event loop).
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 100 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

// The daemon's side of the fleet over a held link: what reached the firewall and the grants
// the state file would keep (the pipeline's).
function fleetHost(): { link: HeldLink; firewall: Decision[]; pipeline: Pipeline; stop: () => void; decided: (decision: Decision) => void } {
  const link = new HeldLink();
  const firewall: Decision[] = [];
  const pipeline = new Pipeline(config, () => undefined);
  let stopped = false;
  let decided: (decision: Decision) => void = () => undefined;
  startFleet({
    clock: { now: () => NOW }, emit: () => undefined, config: () => config, pipeline: () => pipeline,
    sync: { apply: (decision) => firewall.push(decision) }, stopped: () => stopped, observe: (observer) => { decided = observer; }, connect: () => link,
  });
  return { link, firewall, pipeline, stop: () => { stopped = true; }, decided: (decision) => decided(decision) };
}

describe('the daemon\'s side of the fleet, stopping', () => {
  it('applies nothing the stream answers once the stop began, and lets go of the link', async () => {
    const host = fleetHost();
    await until(() => host.link.snapshots.length === 1);
    host.link.snapshots[0]?.([]);
    await until(() => host.link.reads.length === 1);
    host.link.reads[0]?.([{ id: '1-0', text: grantText('203.0.113.7') }]);
    await until(() => host.link.reads.length === 2);
    // The XREAD under way when the daemon stops answers with a grant.
    host.stop();
    host.link.reads[1]?.([{ id: '2-0', text: grantText('203.0.113.8') }]);
    await until(() => host.link.stopped);
    expect([host.pipeline.grants().map((grant) => grant.src), host.firewall.map((decision) => [decision.type, decision.src])]).toEqual([
      ['203.0.113.7'], [['open', '203.0.113.7']],
    ]);
  });

  it('does not rebuild from keys read once the stop began', async () => {
    const host = fleetHost();
    await until(() => host.link.snapshots.length === 1);
    host.stop();
    host.link.snapshots[0]?.([grantText('203.0.113.7')]);
    await until(() => host.link.stopped);
    expect([host.pipeline.grants(), host.firewall, host.link.reads]).toEqual([[], [], []]);
  });
});

describe('the daemon\'s side of the fleet, rebuilding', () => {
  // This host's own grants in the group's keys that it no longer holds: one a logout ended
  // here only keeps its key; one a close door ended is closed across the group.
  it('closes across the group what a door closed, not what a logout ended here', async () => {
    const host = fleetHost();
    for (const [src, by] of [['203.0.113.7', 'logout'], ['203.0.113.8', 'openSSH']] as const) {
      host.decided({ type: 'open', time: NOW - 1000, src, door: 'openSSH', ports: [], expires: NOW + 29_000 });
      host.decided({ type: 'close', time: NOW - 500, src, door: 'openSSH', by, ...(by === 'openSSH' ? { byDoor: true as const } : {}) });
    }
    await until(() => host.link.snapshots.length === 1);
    const own = (src: string) => JSON.stringify({ kind: 'grant', src, door: 'openSSH', expires: NOW + 29_000, origin: 'b' });
    const before = host.link.published.length;
    host.link.snapshots[0]?.([own('203.0.113.7'), own('203.0.113.8')]);
    await until(() => host.link.reads.length === 1);
    expect(host.link.published.slice(before)).toEqual([{ kind: 'close', src: '203.0.113.8', door: 'openSSH', origin: 'b' }]);
  });
});
