import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LineSource, SourcePosition } from '../../src/sources/line-source.js';
import { POSITION_SAVE_EVERY, StateKeeper } from '../../src/runtime/state-keeper.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// A source that stands wherever the test puts it.
function fakeSource(name: string): LineSource & { at: (offset: number) => void } {
  let position: SourcePosition | undefined;
  return {
    name, kind: 'fake', lastLineAt: undefined,
    start: () => undefined, stop: () => undefined, check: () => undefined, lag: () => undefined,
    position: () => position,
    at: (offset) => { position = { dev: 1, ino: 2, offset, firstLineHash: '' }; },
  };
}

function keeper(): { path: string; keeper: StateKeeper; source: ReturnType<typeof fakeSource>; setTime: (t: number) => void; messages: string[]; grants: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'kw-keeper-'));
  dirs.push(dir);
  const path = join(dir, 'state.json');
  let now = 0;
  const messages: string[] = [];
  const grants: string[] = [];
  const source = fakeSource('/var/log/kern.log');
  return {
    path, source, messages, grants,
    setTime: (t) => { now = t; },
    keeper: new StateKeeper({
      path: () => path,
      clock: { now: () => now },
      emit: (event) => messages.push(`${event.level} ${event.message}`),
      sources: () => [source],
      content: () => ({ grants: grants.map((src) => ({ src, door: 'open', opened: 0, expires: 1000 })), bans: [], pendingCloses: [], oneTimeUsed: {} }),
    }),
  };
}

function read(path: string): { grants: { src: string }[]; logs: Record<string, { offset: number }> } {
  return JSON.parse(readFileSync(path, 'utf8')) as { grants: { src: string }[]; logs: Record<string, { offset: number }> };
}

describe('the state keeper', () => {
  it('writes at the next tick after a change, and only then', () => {
    const k = keeper();
    k.keeper.tick(0);
    expect(existsSync(k.path)).toBe(false);
    k.grants.push('203.0.113.7');
    k.keeper.changed();
    k.keeper.tick(10);
    expect(read(k.path).grants.map((grant) => grant.src)).toEqual(['203.0.113.7']);
  });

  it('writes a position that moved at most every POSITION_SAVE_EVERY, keyed by the source name', () => {
    const k = keeper();
    k.source.at(100);
    k.keeper.tick(POSITION_SAVE_EVERY);
    expect(read(k.path).logs).toEqual({ '/var/log/kern.log': { dev: 1, ino: 2, offset: 100, firstLineHash: '' } });
    k.setTime(POSITION_SAVE_EVERY);
    k.keeper.save();
    k.source.at(200);
    k.keeper.tick(2 * POSITION_SAVE_EVERY - 1);
    expect(read(k.path).logs['/var/log/kern.log']?.offset).toBe(100);
    k.keeper.tick(2 * POSITION_SAVE_EVERY);
    expect(read(k.path).logs['/var/log/kern.log']?.offset).toBe(200);
    expect(k.keeper.positionOf('/var/log/kern.log')).toMatchObject({ offset: 200 });
  });

  it('keeps the saved position of a source it no longer reads', () => {
    const k = keeper();
    writeFileSync(k.path, JSON.stringify({ version: 1, grants: [], bans: [], logs: { '/old/kern.log': { dev: 3, ino: 4, offset: 7, firstLineHash: '' } } }));
    k.keeper.load();
    k.keeper.save();
    expect(Object.keys(read(k.path).logs)).toEqual(['/old/kern.log']);
  });

  it('says why a damaged state file is ignored', () => {
    const k = keeper();
    writeFileSync(k.path, '{"version":');
    expect(k.keeper.load().grants).toEqual([]);
    expect(k.messages).toEqual([expect.stringMatching(new RegExp(`^warning Ignoring the state file ${k.path}: damaged JSON`)) as unknown]);
  });

  // The latest window a rotating door had as current shuts every window older than it minus
  // skew. One saved ahead of the host clock is the clock gone back while the daemon was down
  // (kept); one more than a day ahead is a damaged or hostile file, and would shut the door
  // until then (the owner's knock included): dropped with a warning.
  it('keeps a latest window a clock gone back explains, and drops one too far ahead of the host clock', () => {
    const k = keeper();
    const now = 1_700_000_000;
    k.setTime(now * 1000);
    writeFileSync(k.path, JSON.stringify({ version: 1, grants: [], bans: [], logs: {},
      latestWindows: { behind: now - 3600, back: now + 5 * 3600, day: now + 86_400, ever: now + 86_401, year3000: 32_503_680_000, huge: Number.MAX_SAFE_INTEGER } }));
    expect(k.keeper.load().latestWindows).toEqual({ behind: now - 3600, back: now + 5 * 3600, day: now + 86_400 });
    expect(k.messages).toEqual(['ever', 'year3000', 'huge'].map((door) => expect.stringContaining(`Not restoring from ${k.path}: latestWindows["${door}"]: `) as unknown));
    expect(k.messages[1]).toContain('3000-01-01T00:00:00.000Z is more than a day after the host clock (2023-11-14T22:13:20.000Z)');
    expect(k.messages[2]).toContain(`${Number.MAX_SAFE_INTEGER} s is more than a day after`);
  });

  it('reports a failed write only when grants are at stake', () => {
    const k = keeper();
    // A file where its directory should be: the write fails.
    writeFileSync(k.path, '');
    const blocked = new StateKeeper({ path: () => join(k.path, 'state.json'), clock: { now: () => 0 }, emit: (event) => k.messages.push(event.level), sources: () => [], content: () => ({ grants: [], bans: [], pendingCloses: [], oneTimeUsed: {} }) });
    expect(blocked.save()).toBe(false);
    expect(k.messages).toEqual([]);
    blocked.changed();
    expect(blocked.save()).toBe(false);
    expect(k.messages).toEqual(['error']);
    expect(k.keeper.save()).toBe(true);
  });

  // A full disk or a read-only remount passes: what changed is written then, without waiting
  // for the next change (a crash meanwhile would lose grants whose stop_command must run).
  it('tries a failed write of changed grants again at each tick, saying so once, and once more when it works', () => {
    const k = keeper();
    const dir = join(k.path, '..', 'blocked');
    writeFileSync(dir, '');
    const path = join(dir, 'state.json');
    const blocked = new StateKeeper({ path: () => path, clock: { now: () => 0 }, emit: (event) => k.messages.push(`${event.level} ${event.message}`), sources: () => [], content: () => ({ grants: [{ src: '203.0.113.7', door: 'open', opened: 0, expires: 1000 }], bans: [], pendingCloses: [], oneTimeUsed: {} }) });
    blocked.changed();
    blocked.tick(0);
    blocked.tick(1000);
    blocked.tick(2000);
    expect(k.messages).toEqual([expect.stringMatching(/^error Cannot write the state file .*blocked\/state\.json: .*Grants will not survive a restart\.$/)]);
    expect(existsSync(path)).toBe(false);
    rmSync(dir);
    mkdirSync(dir);
    blocked.tick(3000);
    expect((JSON.parse(readFileSync(path, 'utf8')) as { grants: { src: string }[] }).grants.map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(k.messages.slice(1)).toEqual([`notice Wrote the state file ${path} again.`]);
    blocked.tick(4000);
    expect(k.messages).toHaveLength(2);
  });
});
