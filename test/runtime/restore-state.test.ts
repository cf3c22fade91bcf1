import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import type { SavedGrant } from '../../src/runtime/state-file.js';
import { config, knock } from '../helpers/engine.js';

const NOW = 1_000_000;
const X = '203.0.113.7';
const DOORS = '[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 10\n[forever]\nsequence = 7100,8100\nopen_for = 0\n[close]\nsequence = 8000,7000\ncloses = open\n';
const A = `[options]\nfirewall = dry-run\nbantime_max = 3600\n${DOORS}`;
const B = `[options]\nfirewall = dry-run\nbantime_max = 3600\nwhitelist = 203.0.113.0/24\n${DOORS}`;

function pipelineOf(ini: string): { pipeline: Pipeline; decisions: Decision[] } {
  const decisions: Decision[] = [];
  return { pipeline: new Pipeline(config(ini), (decision) => decisions.push(decision)), decisions };
}

function grant(door: string, opened: number, expires: number | null): SavedGrant {
  return { src: X, door, opened, expires };
}

describe('restoreInto and the whitelist', () => {
  it('does not restore a ban of an address the new config whitelists, and says it lifted it', () => {
    const before = pipelineOf(A).pipeline;
    before.restore([], [{ src: X, until: NOW + 600_000, offenses: 2 }], NOW);
    expect(before.bans()).toEqual([{ src: X, until: NOW + 600_000, offenses: 2 }]);
    // SIGHUP with config B, which whitelists X.
    const { pipeline, decisions } = pipelineOf(B);
    const result = pipeline.restore([], before.bans(), NOW);
    expect(result.liftedBans).toEqual([X]);
    expect(pipeline.bans()).toEqual([]);
    expect(pipeline.bannedUntil(X, NOW)).toBeUndefined();
    // Its knocks are not refused.
    for (const [port, at] of [['7000', 1001], ['8000', 1002]] as const) pipeline.handleEvent(knock({ src: X, port, at }));
    expect(decisions.map((d) => d.type)).toEqual(['step', 'step', 'completed', 'open']);
  });

  // The ban ended while the daemon was down: its count still doubles the next one.
  it('keeps the count of a ban that ended, but for an address the config whitelists', () => {
    const { pipeline } = pipelineOf(B);
    pipeline.restore([], [{ src: '198.51.100.1', until: NOW - 1, offenses: 2 }, { src: X, until: NOW - 1, offenses: 3 }], NOW);
    expect(pipeline.bans()).toEqual([]);
    expect(pipeline.accessState().offenses).toEqual([{ src: '198.51.100.1', offenses: 2 }]);
  });

  it('keeps the ban of an address the config does not whitelist', () => {
    const { pipeline } = pipelineOf(B);
    const result = pipeline.restore([], [{ src: '198.51.100.1', until: NOW + 600_000, offenses: 1 }], NOW);
    expect(result.liftedBans).toEqual([]);
    expect(pipeline.bannedUntil('198.51.100.1', NOW)).toBe(NOW + 600_000);
  });
});

describe('restoreInto and the doors', () => {
  it.each([
    // Grants a door can have made.
    ['a live grant', grant('open', NOW - 1000, NOW + 9000), true, []],
    ['a grant at the longest the door and the clock tolerance allow', grant('open', NOW, NOW + 70_000), true, []],
    ['a grant until closed of a door without a lifetime', grant('forever', NOW - 1000, null), true, []],
    ['a grant with an end of a door now without a lifetime', grant('forever', NOW - 1000, NOW + 5000), true, []],
    // Left out without a word: over, or the door is gone or only closes.
    ['an expired grant', grant('open', NOW - 20_000, NOW - 10_000), false, []],
    ['a grant of a door that is gone', grant('gone', NOW - 1000, NOW + 5000), false, []],
    ['a grant of a door that only closes', grant('close', NOW - 1000, NOW + 5000), false, []],
    // Left out with a warning: not what this door makes.
    ['a grant until closed of a door with a lifetime', grant('open', NOW - 1000, null), false,
      [`grant of ${X} on door open: expires: expected a time (door open lasts 10s), found null (until closed); dropped`]],
    ['a grant that outlasts its door', grant('open', NOW, NOW + 70_001), false,
      [`grant of ${X} on door open: expires: expected at most 70s from now (open_for 10s), found 70s from now; dropped`]],
    ['a grant for years', grant('open', NOW, NOW + 3 * 365 * 86_400_000), false,
      [`grant of ${X} on door open: expires: expected at most 70s from now (open_for 10s), found 94608000s from now; dropped`]],
    ['a grant opened tomorrow', grant('forever', NOW + 86_400_000, null), false,
      [`grant of ${X} on door forever: opened: expected at most 60s from now, found 86400s from now; dropped`]],
  ])('%s', (_name, saved, kept, warnings) => {
    const { pipeline } = pipelineOf(A);
    const result = pipeline.restore([saved], [], NOW);
    expect(pipeline.grants().map((g) => `${g.src} ${g.door}`)).toEqual(kept ? [`${X} ${saved.door}`] : []);
    expect(result).toMatchObject({ kept: kept ? 1 : 0, dropped: kept ? [] : [saved], warnings });
  });

  it.each([
    ['a ban within bantime_max', NOW + 3_600_000, true, []],
    ['a ban longer than bantime_max allows', NOW + 3_660_001, false, [`ban of ${X}: until: expected at most 3660s from now (bantime_max), found 3660s from now; dropped`]],
    ['a ban that is over', NOW, false, []],
  ])('%s', (_name, until, kept, warnings) => {
    const { pipeline } = pipelineOf(A);
    const result = pipeline.restore([], [{ src: X, until, offenses: 1 }], NOW);
    expect(pipeline.bans()).toEqual(kept ? [{ src: X, until, offenses: 1 }] : []);
    expect(result.warnings).toEqual(warnings);
  });
});
