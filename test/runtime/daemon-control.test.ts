import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDaemonLab, type DaemonLab } from '../helpers/daemon.js';
import { kernLine } from '../helpers/reload-race.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const X = '203.0.113.7';
const CONFIG = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\n[other]\nsequence = 7100,8100\nseq_timeout = 5\nopen_for = 30\n';

const labs: DaemonLab[] = [];
afterEach(() => {
  for (const lab of labs.splice(0)) lab.cleanUp();
});

function lab(state?: unknown): DaemonLab {
  const created = createDaemonLab(T0, CONFIG);
  labs.push(created);
  if (state !== undefined) writeFileSync(created.stateFile, JSON.stringify(state));
  return created;
}

function knock(src: string, at: number, ports: readonly string[]): string {
  return ports.map((port, i) => kernLine(at + i * 100, src, port, 41000 + i)).join('');
}

function saved(h: DaemonLab): { grants: { src: string; door: string }[]; bans: { src: string }[] } {
  return JSON.parse(readFileSync(h.stateFile, 'utf8')) as { grants: { src: string; door: string }[]; bans: { src: string }[] };
}

describe('the daemon as a control target', () => {
  it('reports the backend, its last verify, pending changes, each source and the pipeline', async () => {
    const h = lab();
    const daemon = h.daemon();
    await daemon.start();
    expect(daemon.status().firewall).toEqual({ backend: 'dry-run', lastVerify: undefined, pending: 0 });
    h.setTime(T0 + 500);
    await h.feed(daemon, knock(X, T0 + 100, ['7000', '8000']));
    // Written after the daemon read it: waiting, not yet read.
    appendFileSync(h.log, 'Nov 22 09:00:01 gate other: not read yet\n');
    h.setTime(T0 + 2500);
    daemon.tick();
    await daemon.settle();
    const status = daemon.status();
    expect(status.pid).toBe(process.pid);
    expect(status.now).toBe(T0 + 2500);
    expect(status.startedAt).toBe(T0);
    expect(status.config).toBe(daemon.config.file);
    expect(status.firewall).toEqual({ backend: 'dry-run', lastVerify: { at: T0 + 2500, ok: true }, pending: 0 });
    const size = statSync(h.log);
    expect(status.sources).toEqual([{
      name: h.log, kind: 'file', lag: 41, lastLineAt: T0 + 500,
      position: { dev: size.dev, ino: size.ino, offset: size.size - 41, firstLineHash: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown },
    }]);
    expect(status.pipeline.grants.map((grant) => [grant.src, grant.door, grant.expires])).toEqual([[X, 'open', T0 + 200 + 30_000]]);
    expect(status.pipeline.stats.opens).toBe(1);
  });

  it('unbans a banned address through the firewall and the state file', async () => {
    const h = lab({ version: 1, grants: [], bans: [{ src: X, until: T0 + 600_000, offenses: 1 }] });
    const daemon = h.daemon();
    await daemon.start();
    expect(saved(h).bans.map((ban) => ban.src)).toEqual([X]);
    expect(await daemon.unban(X)).toEqual({ ok: true, message: `Lifted the ban of ${X}.` });
    expect(h.record()).toEqual(['start 0', `~!${X}`]);
    expect(saved(h).bans).toEqual([]);
    expect(h.messages.at(-1)).toBe(`info Ban of ${X} is over.`);
    // Now it may knock.
    await h.feed(daemon, knock(X, T0 + 100, ['7000', '8000']));
    expect(daemon.grants().map((grant) => grant.src)).toEqual([X]);
  });

  it.each([
    // an address that is not banned
    { src: X, error: `${X} is not banned.` },
    // not an address at all: refused before it reaches anything
    { src: '203.0.113.7; rm -rf /', error: '"203.0.113.7; rm -rf /" is not an IP address.' },
    { src: '010.1.1.1', error: '"010.1.1.1" is not an IP address.' },
  ])('refuses to unban $src', async ({ src, error }) => {
    const h = lab();
    const daemon = h.daemon();
    await daemon.start();
    expect(await daemon.unban(src)).toEqual({ ok: false, error });
    expect(h.record()).toEqual(['start 0']);
  });

  it('closes one door of an address, then all of them', async () => {
    const h = lab();
    const daemon = h.daemon();
    await daemon.start();
    await h.feed(daemon, knock(X, T0 + 100, ['7000', '8000']) + knock(X, T0 + 1000, ['7100', '8100']));
    expect(daemon.grants().map((grant) => grant.door)).toEqual(['open', 'other']);
    expect(await daemon.close(X, 'other')).toEqual({ ok: true, message: `Closed other for ${X}.` });
    expect(saved(h).grants.map((grant) => grant.door)).toEqual(['open']);
    expect(h.messages.at(-1)).toBe(`notice Closed other for ${X} (admin).`);
    await h.feed(daemon, knock(X, T0 + 10_000, ['7100', '8100']));
    expect(await daemon.close(X, undefined)).toEqual({ ok: true, message: `Closed open, other for ${X}.` });
    expect(daemon.grants()).toEqual([]);
    expect(h.record().slice(-2)).toEqual([`-${X} open`, `-${X} other`]);
    expect(saved(h).grants).toEqual([]);
  });

  it.each([
    // no such door in the config
    { src: X, door: 'nope', error: `${'CONFIG'} has no door "nope".` },
    // a door the address has no grant on
    { src: '198.51.100.1', door: 'open', error: '198.51.100.1 has no grant on open.' },
    // no grant at all
    { src: '198.51.100.1', door: undefined, error: '198.51.100.1 has no open door.' },
    // not an address
    { src: 'localhost', door: undefined, error: '"localhost" is not an IP address.' },
  ])('refuses to close $door for $src', async ({ src, door, error }) => {
    const h = lab();
    const daemon = h.daemon();
    await daemon.start();
    await h.feed(daemon, knock(X, T0 + 100, ['7000', '8000']));
    expect(await daemon.close(src, door)).toEqual({ ok: false, error: error.replace('CONFIG', daemon.config.file) });
    expect(daemon.grants().map((grant) => grant.src)).toEqual([X]);
  });
  // The dry-run backend appends to its record file: a directory in its place makes every
  // firewall change fail.
  function breakFirewall(h: DaemonLab): void {
    const record = join(h.dir, 'record');
    rmSync(record, { force: true });
    mkdirSync(record);
  }

  it('says so when the firewall did not take a close, and keeps the close in the state file', async () => {
    const h = lab();
    const daemon = h.daemon();
    await daemon.start();
    await h.feed(daemon, knock(X, T0 + 100, ['7000', '8000']));
    breakFirewall(h);
    expect(await daemon.close(X, 'open')).toEqual({
      ok: false, error: `Closed open for ${X} in knockwatch, but the firewall change failed; knockwatch tries it again (see its log).`,
    });
    expect(saved(h).grants).toEqual([]);
    expect(h.messages.filter((message) => message.includes('failed (try'))).toEqual([
      expect.stringMatching(new RegExp(`^warning Firewall close of open for ${X.replace(/\./g, '\\.')} failed \\(try 1\\): .*; trying again in 1s`)),
    ]);
    daemon.halt();
  });

  it('says so when the firewall did not take an unban', async () => {
    const h = lab({ version: 1, grants: [], bans: [{ src: X, until: T0 + 600_000, offenses: 1 }] });
    const daemon = h.daemon();
    await daemon.start();
    breakFirewall(h);
    expect(await daemon.unban(X)).toEqual({
      ok: false, error: `Lifted the ban of ${X} in knockwatch, but the firewall change failed; knockwatch tries it again (see its log).`,
    });
    expect(saved(h).bans).toEqual([]);
    daemon.halt();
  });

  it('answers a close made while a reload installs its ruleset once both are done, and the reload keeps it', async () => {
    const h = lab();
    const daemon = h.daemon();
    await daemon.start();
    await h.feed(daemon, knock(X, T0 + 100, ['7000', '8000']));
    const [closed, reloaded] = await Promise.all([daemon.close(X, 'open'), daemon.reload()]);
    expect(closed).toEqual({ ok: true, message: `Closed open for ${X}.` });
    expect(reloaded).toBe(true);
    expect(daemon.grants()).toEqual([]);
    expect(saved(h).grants).toEqual([]);
    expect(h.record().filter((entry) => entry.startsWith(`-${X}`))).toEqual([`-${X} open`]);
  });
});
