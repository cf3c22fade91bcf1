import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { FleetLab } from './helpers/fleet-lab.js';
import { waitFor } from './helpers/lab.js';

// The fleet for real: a redis-server with an ACL user in its own namespace, two hosts each
// with knockwatch (knocks from /dev/kmsg) and nftables, one client. Subnets 10.221-223.
const missing = missingPrerequisites(['ip', 'nft', 'nc', 'sysctl', 'redis-server'], true);
explainSkip('end-to-end fleet tests', missing);

const OPEN_FOR = 10;
const BIN = join(packageRoot(), 'dist/src/cli/bin.js');

// One line per fleet event a host logged: its level and what it was.
function fleetEvents(log: string): string[] {
  return log.split('\n').filter((line) => line.includes(' Fleet: ')).map((line) => {
    const level = line.split(/\s+/)[1] ?? '';
    const kind = ['connected', 'unreachable', 'is back', 'resynchronised', 'refused'].find((word) => line.includes(word)) ?? line;
    return `${level} ${kind}`;
  });
}

describe.skipIf(missing.length > 0)('fleet over Redis: two hosts, one client', () => {
  const lab = new FleetLab();
  const { a, b } = lab;

  beforeAll(async () => {
    await lab.up();
    await lab.startDaemon(a, lab.config(a, { openFor: OPEN_FOR }));
    await lab.startDaemon(b, lab.config(b, { openFor: OPEN_FOR }));
    await waitFor('both hosts to join the group', () => [a, b].every((host) => host.log().includes('Fleet: resynchronised')), 15_000);
  });

  afterAll(async () => {
    await lab.stopDaemon(a);
    await lab.stopDaemon(b);
    lab.down();
  });

  it('a knock on A opens A and B; B shows the grant as remote', async () => {
    expect([lab.canConnect(a), lab.canConnect(b)]).toEqual([false, false]);
    lab.knock(a);
    await waitFor('A and B to open', () => lab.canConnect(a) && lab.canConnect(b), 10_000, 100);
    expect(lab.status(b).split('\n').filter((line) => line.includes(lab.clientAddress))).toEqual([expect.stringMatching(/openSSH +22\/tcp +expires in \d+ s \(remote, from a\)$/)]);
    expect(lab.status(a).split('\n').filter((line) => line.includes(lab.clientAddress))).toEqual([expect.stringMatching(/openSSH +22\/tcp +expires in \d+ s$/)]);
  });

  it('the grant expires on both, on time', async () => {
    const knocked = Date.now();
    lab.knock(a);
    await waitFor('A and B to be open again', () => lab.canConnect(a) && lab.canConnect(b), 10_000, 100);
    await waitFor('A and B to close', () => !lab.canConnect(a) && !lab.canConnect(b), (OPEN_FOR + 5) * 1000, 200);
    expect(Date.now() - knocked).toBeGreaterThanOrEqual((OPEN_FOR - 1) * 1000);
  });

  it('a ban on A drops the address on B; an unban on A lifts it on B', async () => {
    lab.knock(a);
    await waitFor('A and B to open', () => lab.canConnect(a) && lab.canConnect(b), 10_000, 100);
    lab.failLogins(a, lab.clientAddress, 2);
    await waitFor('B to drop the banned client', () => !lab.canConnect(b), 10_000, 100);
    expect(lab.status(b).split('\n').filter((line) => line.includes(lab.clientAddress))).toEqual([expect.stringMatching(/until .* 1 offense \(remote, from a\)$/)]);
    const unban = spawnSync(process.execPath, [BIN, 'unban', lab.clientAddress, '--control-socket', join(a.dir, 'control.sock')], { encoding: 'utf8', timeout: 20_000 });
    expect(unban.status).toBe(0);
    await waitFor('B to lift the ban', () => lab.status(b).includes('bans: 0'), 10_000, 100);
  });

  it('Redis killed: A opens for a new knock alone, B\'s grant expires on time; Redis back: B catches up', async () => {
    await waitFor('no grant left', () => !lab.canConnect(a) && !lab.canConnect(b), (OPEN_FOR + 5) * 1000, 200);
    lab.knock(a);
    await waitFor('A and B to open', () => lab.canConnect(a) && lab.canConnect(b), 10_000, 100);
    const opened = Date.now();
    await lab.killRedis();
    await waitFor('A to say Redis is lost', () => a.log().includes('unreachable'), 10_000, 100);
    await waitFor('B\'s grant to expire with Redis down', () => !lab.canConnect(b), (OPEN_FOR + 5) * 1000, 200);
    expect(Date.now() - opened).toBeGreaterThanOrEqual((OPEN_FOR - 2) * 1000);
    await waitFor('A\'s grant to expire too', () => !lab.canConnect(a), 10_000, 200);
    lab.knock(a);
    await waitFor('A to open alone', () => lab.canConnect(a), 10_000, 100);
    expect(lab.canConnect(b)).toBe(false);
    await lab.startRedis();
    await waitFor('B to catch up with A\'s grant', () => lab.canConnect(b), (OPEN_FOR - 1) * 1000, 100);
    // Lost once, back once, however many attempts between.
    expect(fleetEvents(a.log())).toEqual(['INFO connected', 'INFO resynchronised', 'WARNING unreachable', 'NOTICE is back', 'INFO resynchronised']);
    expect(a.log().split('\n').filter((line) => line.includes('is back'))).toHaveLength(1);
  }, 90_000);

  it('a host with a wrong password logs one clear error and keeps working alone', async () => {
    await lab.stopDaemon(b);
    await lab.startDaemon(b, lab.config(b, { openFor: OPEN_FOR, password: 'not-the-password' }));
    await waitFor('B to say Redis refused it', () => b.log().includes('refused user'), 10_000, 100);
    await waitFor('no grant left', () => !lab.canConnect(a) && !lab.canConnect(b), (OPEN_FOR + 5) * 1000, 200);
    lab.knock(b);
    await waitFor('B to open alone', () => lab.canConnect(b), 10_000, 100);
    expect(lab.canConnect(a)).toBe(false);
    expect(fleetEvents(b.log())).toEqual(['ERROR refused']);
    expect(b.log()).not.toContain('not-the-password');
  }, 60_000);
});
