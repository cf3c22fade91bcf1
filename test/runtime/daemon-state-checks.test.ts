import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createDaemonLab, type DaemonLab } from '../helpers/daemon.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const X = '203.0.113.7';
const Y = '198.51.100.1';
const DOOR = '[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\n';
const A = `[options]\nfirewall = dry-run\n${DOOR}`;
const B = `[options]\nfirewall = dry-run\nwhitelist = 203.0.113.0/24\n${DOOR}`;

const labs: DaemonLab[] = [];
afterEach(() => {
  for (const lab of labs.splice(0)) lab.cleanUp();
});

// The banned addresses in the state file the daemon last wrote.
function savedBans(h: DaemonLab): string[] {
  return (JSON.parse(readFileSync(h.stateFile, 'utf8')) as { bans: { src: string }[] }).bans.map((ban) => ban.src);
}

function lab(config: string, state: unknown): DaemonLab {
  const created = createDaemonLab(T0, config);
  labs.push(created);
  writeFileSync(created.stateFile, JSON.stringify(state));
  return created;
}

describe('daemon start on a state file with bad entries', () => {
  it('restores the good ones, drops the bad ones with a warning each, and keeps running', async () => {
    const h = lab(A, {
      version: 1,
      grants: [
        { src: X, door: 'open', opened: T0 - 1000, expires: T0 + 20_000 },
        { src: Y, door: 'open', opened: T0 - 1000, expires: null },
        { src: '192.0.2.5', door: 'open', opened: T0 - 1000, expires: 1e300 },
      ],
      bans: [{ src: '192.0.2.9', until: T0 + 60_000, offenses: 0 }],
      logs: { '/var/log/kern.log': { dev: 1, ino: 2, offset: -5, firstLineHash: '' } },
    });
    const daemon = h.daemon();
    await daemon.start();
    await daemon.settle();
    expect(daemon.grants().map((grant) => grant.src)).toEqual([X]);
    expect(h.record()).toEqual(['start 1']);
    expect(h.messages.filter((message) => message.startsWith('warning Not restoring'))).toEqual([
      `warning Not restoring from ${h.stateFile}: grants[2] (192.0.2.5): expires: expected a time (ms since 1970, 0 to 8.64e15) or null, found 1e+300; dropped.`,
      `warning Not restoring from ${h.stateFile}: bans[0] (192.0.2.9): offenses: expected a whole number, 1 or more, found 0; dropped.`,
      `warning Not restoring from ${h.stateFile}: logs["/var/log/kern.log"]: offset: expected a byte offset (a whole number, 0 or more), found -5; dropped.`,
      `warning Not restoring from ${h.stateFile}: grant of ${Y} on door open: expires: expected a time (door open lasts 30s), found null (until closed); dropped.`,
    ]);
    // The file written back holds only what was kept, and pending closes.
    daemon.poll();
    await daemon.stop('SIGTERM');
    const saved = JSON.parse(readFileSync(h.stateFile, 'utf8')) as { logs: object; pendingCloses: unknown[] };
    expect(saved.pendingCloses).toEqual([]);
    expect(Object.keys(saved.logs)).toEqual([h.log]);
  });
});

describe('daemon and a ban of an address the whitelist now covers', () => {
  const banned = { version: 1, grants: [], bans: [{ src: X, until: T0 + 600_000, offenses: 1 }] };

  it('lifts it on a reload that whitelists the address', async () => {
    const h = lab(A, banned);
    const daemon = h.daemon();
    await daemon.start();
    expect(savedBans(h)).toEqual([X]);
    h.writeConfig(B);
    expect(await daemon.reload()).toBe(true);
    daemon.poll();
    await daemon.settle();
    expect(savedBans(h)).toEqual([]);
    expect(h.record().at(-1)).toBe(`~!${X}`);
    expect(h.messages).toContain(`notice Lifted the ban of ${X}: the config whitelists it.`);
  });

  it('lifts it on a start with a config that whitelists the address', async () => {
    const h = lab(B, banned);
    const daemon = h.daemon();
    await daemon.start();
    await daemon.settle();
    expect(savedBans(h)).toEqual([]);
    expect(h.record()).toEqual(['start 0', `~!${X}`]);
    expect(h.messages).toContain(`notice Lifted the ban of ${X}: the config whitelists it.`);
  });
});
