import { describe, expect, it } from 'vitest';
import { Access } from '../../src/access/access.js';
import type { Decision } from '../../src/engine/decisions.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config, knock } from '../helpers/engine.js';

const WHITELISTED = '203.0.113.7';
const OTHER = '198.51.100.1';
const INI = '[options]\nfirewall = dry-run\nwhitelist = 203.0.113.0/24\n[open]\nsequence = 7000,8000\nseq_timeout = 5\n';
const { doors, options } = config(INI);

describe('a whitelisted address from restored state', () => {
  it.each([
    [WHITELISTED, undefined],
    [OTHER, 600_000],
  ])('Access.restoreBan of %s leaves it banned until %s', (src, until) => {
    const access = new Access(doors, options);
    access.restoreBan({ src, until: 600_000, offenses: 1 });
    expect(access.bannedUntil(src, 0)).toBe(until);
    expect(access.bans().map((ban) => ban.src)).toEqual(until === undefined ? [] : [src]);
  });

  it.each([
    [WHITELISTED, ['step', 'step', 'completed', 'open']],
    [OTHER, ['refused', 'refused']],
  ])('a restored ban of %s: its knocks then give %j', (src, types) => {
    const decisions: Decision[] = [];
    const pipeline = new Pipeline(config(INI), (decision) => decisions.push(decision));
    pipeline.restore([], [{ src, until: 600_000, offenses: 1 }], 0);
    for (const at of [1, 2]) pipeline.handleEvent(knock({ src, port: at === 1 ? '7000' : '8000', at }));
    expect(decisions.map((d) => d.type)).toEqual(types);
  });
});
