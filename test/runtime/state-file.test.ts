import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyState, loadState, saveState } from '../../src/runtime/state-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-state-'));
  dirs.push(dir);
  return dir;
}

describe('state file', () => {
  it('is replaced by a rename, never rewritten in place, and leaves no temporary file', () => {
    const path = join(tempDir(), 'state.json');
    saveState(path, emptyState());
    const before = statSync(path).ino;
    saveState(path, { ...emptyState(), grants: [{ src: '203.0.113.7', door: 'open', opened: 1, expires: null }] });
    // A new inode: a reader (or a crash) only ever sees the whole old or the whole new file.
    expect(statSync(path).ino).not.toBe(before);
    expect(readdirSync(join(path, '..'))).toEqual(['state.json']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadState(path).state.grants).toEqual([{ src: '203.0.113.7', door: 'open', opened: 1, expires: null }]);
  });

  it.each([
    ['damaged JSON', '{"version": 1, "grants": [', 'damaged JSON'],
    ['another format', '{"version": 2}', 'not a knockwatch state file'],
  ])('starts empty from %s and says why', (_name, text, problem) => {
    const path = join(tempDir(), 'state.json');
    writeFileSync(path, text);
    const loaded = loadState(path);
    expect(loaded.state).toEqual(emptyState());
    expect(loaded.problem).toContain(problem);
  });

  it('drops saved grants and bans whose address is not a valid one', () => {
    const path = join(tempDir(), 'state.json');
    writeFileSync(path, JSON.stringify({
      version: 1,
      grants: [{ src: '203.0.113.7', door: 'open', opened: 1, expires: 5 }, { src: '1.2.3.4; rm -rf /', door: 'open', opened: 1, expires: 5 }],
      bans: [{ src: '2001:db8::9', until: 9, offenses: 1 }, { src: '999.1.1.1', until: 9, offenses: 1 }],
    }));
    const { state } = loadState(path);
    expect(state.grants.map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(state.bans.map((ban) => ban.src)).toEqual(['2001:db8::9']);
  });

  it('is empty when there is none yet', () => {
    expect(loadState(join(tempDir(), 'missing.json'))).toEqual({ state: emptyState() });
  });
});
