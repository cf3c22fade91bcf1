import { describe, expect, it } from 'vitest';
import { AuthTracker } from '../../src/engine/auth-tracker.js';
import { Engine } from '../../src/engine/engine.js';
import { config, knock } from '../helpers/engine.js';

const WHITELISTED = '203.0.113.7';
const OTHER = '198.51.100.1';
const { doors, options } = config('[options]\nwhitelist = 203.0.113.0/24\n[open]\nsequence = 7000,8000\nseq_timeout = 5\n');

describe('a whitelisted address from restored state', () => {
  it.each([
    [WHITELISTED, undefined],
    [OTHER, 600_000],
  ])('AuthTracker.restoreBan of %s leaves it banned until %s', (src, until) => {
    const auth = new AuthTracker(options);
    auth.restoreBan({ src, until: 600_000, offenses: 1 });
    expect(auth.bannedUntil(src, 0)).toBe(until);
    expect(auth.savedBans().map((ban) => ban.src)).toEqual(until === undefined ? [] : [src]);
  });

  it.each([
    [WHITELISTED, ['step', 'step', 'completed']],
    [OTHER, ['refused', 'refused']],
  ])('Engine.ban of %s: its knocks then give %j', (src, types) => {
    const engine = new Engine(doors, options);
    engine.ban(src, 600_000);
    const decisions = [knock({ src, port: '7000', at: 1 }), knock({ src, port: '8000', at: 2 })].flatMap((k) => engine.handleKnock(k));
    expect(decisions.map((d) => d.type)).toEqual(types);
  });
});
