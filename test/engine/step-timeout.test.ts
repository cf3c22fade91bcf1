import { describe as group, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import type { Engine } from '../../src/engine/engine.js';
import { engineOf, knock, type KnockSpec } from '../helpers/engine.js';

const A = '203.0.113.7';

const door = (keys: string, options = '') => `${options ? `[options]\n${options}\n` : ''}[open]\nsequence = 7000,8000,9000\n${keys}\n`;
// step_timeout within a longer seq_timeout: the netfilter recipe's `recent --seconds 5` per phase.
const STEPS = door('step_timeout = 5\nseq_timeout = 30');
// The same door kept as full states from the first knock on.
const STEPS_FULL = door('step_timeout = 5\nseq_timeout = 30', 'max_first_steps = 0');

const ends = (decisions: readonly Decision[]) => decisions.filter((d) => d.type === 'completed' || d.type === 'broken');
const feed = (engine: Engine, knocks: readonly KnockSpec[]) => ends(knocks.flatMap((spec) => engine.handleKnock(knock(spec))));
const at = (...seconds: number[]): KnockSpec[] => seconds.map((second, i) => ({ port: String(7000 + 1000 * i), at: second }));

const completed = { type: 'completed', time: 8000, src: A, door: 'open' };
const stepTimeout = (time: number, step: number) => ({ type: 'broken', time, src: A, door: 'open', reason: 'step-timeout', step, within: 5000 });

group('engine: step_timeout', () => {
  it.each([
    // steps 4 s apart, 8 s in all: each step within 5 s of the one before
    ['from the first-step table', STEPS],
    ['as a full state', STEPS_FULL],
  ])('opens with steps 4 s apart (%s)', (_name, ini) => {
    expect(feed(engineOf(ini), at(0, 4, 8))).toEqual([completed]);
  });

  it.each([
    // the second step 6 s after the first: broken when step 2 was due, at 5 s
    ['step 2, from the first-step table', STEPS, at(0, 6), stepTimeout(5000, 2)],
    ['step 2, as a full state', STEPS_FULL, at(0, 6), stepTimeout(5000, 2)],
    // the third step 6 s after the second: due at 4 + 5 s
    ['step 3', STEPS, at(0, 4, 10), stepTimeout(9000, 3)],
  ])('breaks at the step that came late: %s', (_name, ini, knocks, why) => {
    expect(feed(engineOf(ini), knocks)).toEqual([why]);
  });

  it('still applies seq_timeout when the steps come in time', () => {
    const engine = engineOf(door('step_timeout = 5\nseq_timeout = 6'));
    expect(feed(engine, at(0, 4, 8))).toEqual([{ type: 'broken', time: 6000, src: A, door: 'open', reason: 'timeout', got: 2, of: 3, within: 6000 }]);
  });

  it('has no whole-sequence limit with only step_timeout: 4 steps 9 s apart open past the default seq_timeout', () => {
    const engine = engineOf('[open]\nsequence = 7000,8000,9000,10000\nstep_timeout = 10\n');
    expect(feed(engine, at(0, 9, 18, 27))).toEqual([{ type: 'completed', time: 27_000, src: A, door: 'open' }]);
  });

  it('ends a step-timed attempt at cleanup, at its step deadline', () => {
    const engine = engineOf(STEPS_FULL);
    feed(engine, at(0, 4));
    expect(engine.cleanup(9000)).toEqual([]);
    expect(engine.cleanup(9001)).toEqual([stepTimeout(9000, 3)]);
    expect(engine.attemptsByDoor()).toEqual(new Map());
  });
});

group('engine: step_timeout in the first-step table', () => {
  it('makes a source with only its first step due after step_timeout', () => {
    const engine = engineOf(STEPS);
    feed(engine, at(0));
    expect(engine.cleanup(5000)).toEqual([]);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [A]]]));
    expect(engine.cleanup(5001)).toEqual([stepTimeout(5000, 2)]);
    expect(engine.attemptsByDoor()).toEqual(new Map());
  });

  it('is due when the longest of its doors has run out, each door at its own time', () => {
    // Both doors start on 7000: `slow` has only seq_timeout = 10.
    const engine = engineOf(`${STEPS}[slow]\nsequence = 7000,9500\nseq_timeout = 10\n`);
    feed(engine, at(0));
    expect(engine.cleanup(9000)).toEqual([]);
    expect(engine.cleanup(10_001)).toEqual([
      stepTimeout(5000, 2),
      { type: 'broken', time: 10_000, src: A, door: 'slow', reason: 'timeout', got: 1, of: 2, within: 10_000 },
    ]);
  });

  // As with seq_timeout: the table no longer answers for it, the full state it becomes does
  // (its attempt ran out; the SYN is still within retransmit_window).
  it.each([
    ['step_timeout = 5\nseq_timeout = 30'],
    ['seq_timeout = 5'],
  ])('decides the first SYN again after the attempt ran out as without the table (%s)', (keys) => {
    const engine = engineOf(door(keys, 'retransmit_window = 10'));
    engine.handleKnock(knock({ port: '7000', at: 0, spt: 41000 }));
    const again = engine.handleKnock(knock({ port: '7000', at: 6, spt: 41000 }));
    expect(again.map((d) => d.type)).toEqual(['broken', 'retransmit']);
  });

  it('decides the first SYN again once the shortest of its doors ran out as without the table', () => {
    // Both doors start on 7000: `open` runs out at 5 s, `slow` at 10 s.
    const doors = `${door('step_timeout = 5\nseq_timeout = 30', 'retransmit_window = 10')}[slow]\nsequence = 7000,9500\nseq_timeout = 10\n`;
    const again = (ini: string) => {
      const engine = engineOf(ini);
      engine.handleKnock(knock({ port: '7000', at: 0, spt: 41000 }));
      return engine.handleKnock(knock({ port: '7000', at: 6, spt: 41000 }));
    };
    expect(again(doors)).toEqual([stepTimeout(5000, 2), { type: 'retransmit', time: 6000, src: A, knock: { port: 7000, proto: 'tcp' }, spt: 41000 }]);
    expect(again(doors)).toEqual(again(doors.replace('retransmit_window = 10', 'retransmit_window = 10\nmax_first_steps = 0')));
  });
});

group('engine: a reload keeps the step timing (adoptAttempts)', () => {
  const reload = (old: Engine, ini: string) => {
    const engine = engineOf(ini);
    engine.adoptAttempts(old);
    return engine;
  };

  it.each([
    // the last step at 4 s: the third is due by 9 s, not 5 s after the reload or the start
    ['a full state', STEPS, at(0, 4), [{ port: '9000', at: 9.5 }], stepTimeout(9000, 3)],
    // the first step at 0 s: the second is due by 5 s
    ['a first-step entry', STEPS, at(0), [{ port: '8000', at: 5.5 }], stepTimeout(5000, 2)],
  ])('%s', (_name, ini, before, after, why) => {
    const old = engineOf(ini);
    feed(old, before);
    expect(feed(reload(old, ini), after)).toEqual([why]);
  });

  it('continues in time after the reload', () => {
    const old = engineOf(STEPS);
    feed(old, at(0, 4));
    expect(feed(reload(old, STEPS), [{ port: '9000', at: 8 }])).toEqual([completed]);
  });
});
