import { describe as group, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { engineOf, knock, type KnockSpec, ONE_DOOR } from '../helpers/engine.js';

// The million-source runs, apart from test/engine/eviction.test.ts so that mutation testing
// (vitest.mutate.config.ts) can leave them out: every engine mutant would run them.

// The i-th spoofed source of a flood, IPv6 like the longest addresses a log carries.
const spoofed = (i: number) => `2001:db8:${((i >>> 16) + 1).toString(16)}:${(i & 0xffff).toString(16)}:aaaa:bbbb:cccc:dddd`;
const types = (engine: Engine, spec: KnockSpec) => engine.handleKnock(knock(spec)).map((d) => d.type);

group('engine under a million spoofed sources', () => {
  it('evicts in O(1): a million spoofed sources against max_tracked = 50000', () => {
    const engine = engineOf(`[options]\nmax_tracked = 50000\nmax_first_steps = 0\n${ONE_DOOR}`);
    for (let i = 0; i < 1_000_000; i++) {
      engine.handleKnock({ ...knock({ src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: '7000', at: 0 }), time: i / 100 });
    }
    expect(engine.trackedSources).toBe(50_000);
    expect(engine.evictions).toBe(950_000);
  }, 30_000);

  // The hard case of issue 10: the user's first step looks like the flood's.
  it('opens for a user knocking 1.5 s apart amid 1,000,000 spoofed first steps at 100,000/s, with the default caps', () => {
    const engine = engineOf(ONE_DOOR.replace('seq_timeout = 5', 'seq_timeout = 25'));
    const user = '2001:db8:ffff:1:2:3:4:5';
    const got: string[] = [];
    const at = (i: number) => i / 100_000;
    for (let i = 0; i < 1_000_000; i++) {
      if (i === 500_000) got.push(...types(engine, { src: user, port: '7000', at: at(i) }));
      if (i === 650_000) got.push(...types(engine, { src: user, port: '8000', at: at(i) }));
      if (i === 800_000) got.push(...types(engine, { src: user, port: '9000/udp', at: at(i) }));
      engine.handleKnock({ ...knock({ src: spoofed(i), port: '7000', at: 0 }), time: at(i) * 1000 });
      if (i % 100_000 === 0) engine.cleanup(at(i) * 1000);
    }
    expect(got).toEqual(['step', 'step', 'step', 'completed']);
  }, 60_000);
});
