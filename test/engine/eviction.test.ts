import { describe as group, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import type { Engine } from '../../src/engine/engine.js';
import { engineOf, knock, type KnockSpec, ONE_DOOR } from '../helpers/engine.js';

const A = '203.0.113.7';
const B = '198.51.100.23';
const C = '198.51.100.99';
const V6 = '2001:db8:4:8:15:16:23:42';

// The i-th spoofed source of a flood, IPv6 like the longest addresses a log carries.
const spoofed = (i: number) => `2001:db8:${((i >>> 16) + 1).toString(16)}:${(i & 0xffff).toString(16)}:aaaa:bbbb:cccc:dddd`;

const evictedOf = (decisions: readonly Decision[]) =>
  decisions.filter((d) => d.type === 'broken' && d.reason === 'evicted').map((d) => d.src);
const types = (engine: Engine, spec: KnockSpec) => engine.handleKnock(knock(spec)).map((d) => d.type);

group('engine: eviction protects progress', () => {
  const FULL_ONLY = `[options]\nmax_tracked = 2\nmax_first_steps = 0\n[open]\nsequence = 7000,8000,9000,10000\nseq_timeout = 20\n`;

  it('evicts a source with one step done before one with two, even an older one', () => {
    const engine = engineOf(FULL_ONLY);
    engine.handleKnock(knock({ src: A, port: '7000', at: 0 }));
    engine.handleKnock(knock({ src: A, port: '8000', at: 1 }));
    engine.handleKnock(knock({ src: B, port: '7000', at: 2 }));
    expect(evictedOf(engine.handleKnock(knock({ src: C, port: '7000', at: 3 })))).toEqual([B]);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [A, C]]]));
  });

  it('evicts the newcomer itself when every other source is further along', () => {
    const engine = engineOf(FULL_ONLY);
    for (const src of [A, B]) {
      engine.handleKnock(knock({ src, port: '7000', at: 0 }));
      engine.handleKnock(knock({ src, port: '8000', at: 1 }));
    }
    expect(evictedOf(engine.handleKnock(knock({ src: C, port: '7000', at: 2 })))).toEqual([C]);
    expect(types(engine, { src: A, port: '9000', at: 3 })).toEqual(['step']);
  });

  it('among sources as far along, evicts the one that completed a step least recently', () => {
    const engine = engineOf(FULL_ONLY);
    engine.handleKnock(knock({ src: A, port: '7000', at: 0 }));
    engine.handleKnock(knock({ src: B, port: '7000', at: 1 }));
    engine.handleKnock(knock({ src: A, port: '8000', at: 2 }));
    engine.handleKnock(knock({ src: B, port: '8000', at: 3 }));
    // A moved on to step 2 before B did: A goes
    expect(evictedOf(engine.handleKnock(knock({ src: C, port: '7000', at: 4 })))).toEqual([C]);
    engine.handleKnock(knock({ src: A, port: '9000', at: 5 }));
    // now A has three steps, B two: B goes before A
    const third = engineOf(FULL_ONLY.replace('max_tracked = 2', 'max_tracked = 3'));
    for (const [src, port, at] of [[A, '7000', 0], [B, '7000', 1], [A, '8000', 2], [B, '8000', 3], [C, '7000', 4], [C, '8000', 5]] as const) {
      third.handleKnock(knock({ src, port, at }));
    }
    expect(evictedOf(third.handleKnock(knock({ src: V6, port: '7000', at: 6 })))).toEqual([V6]);
    third.handleKnock(knock({ src: V6, port: '7000', at: 6.5 }));
    expect(third.attemptsByDoor()).toEqual(new Map([['open', [A, B, C]]]));
  });

  it('takes a source with nothing in progress (trapped) before one with a step done', () => {
    const engine = engineOf(FULL_ONLY.replace('max_first_steps = 0', 'max_first_steps = 0\ntrap_ports = 7500'));
    engine.handleKnock(knock({ src: B, port: '7500', at: 0 }));
    engine.handleKnock(knock({ src: A, port: '7000', at: 1 }));
    engine.handleKnock(knock({ src: C, port: '7000', at: 2 }));
    expect(engine.evictions).toBe(1);
    // B's trap period went with it: its knock is a step (and A, now the oldest with one step, goes)
    expect(engine.handleKnock(knock({ src: B, port: '7000', at: 3 })).map((d) => `${d.type} ${d.src}`)).toEqual([`step ${B}`, `broken ${A}`]);
  });

  // A's attempt times out at cleanup while a recent SYN keeps A: from then on it has nothing
  // in progress and goes before B, whose attempt is still running.
  it('ranks a source by what it has left after cleanup, not by what it had', () => {
    const engine = engineOf('[options]\nmax_tracked = 2\nmax_first_steps = 0\nretransmit_window = 30\n[open]\nsequence = 7000,8000,9000,10000\nseq_timeout = 20\n');
    engine.handleKnock(knock({ src: A, port: '7000', at: 0 }));
    engine.handleKnock(knock({ src: A, port: '8000', at: 1 }));
    engine.handleKnock(knock({ src: B, port: '7000', at: 10 }));
    expect(engine.cleanup(25_000).map((d) => d.src)).toEqual([A]);
    expect(evictedOf(engine.handleKnock(knock({ src: C, port: '7000', at: 26 })))).toEqual([]);
    expect(engine.evictions).toBe(1);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [B, C]]]));
  });
});

group('engine: first-step entries (max_first_steps)', () => {
  const SMALL = (steps: number) => `[options]\nmax_tracked = 10\nmax_first_steps = ${steps}\n${ONE_DOOR}`;

  it('keeps a source with one step done apart from max_tracked, and evicts the oldest of them', () => {
    const engine = engineOf(SMALL(3));
    for (let i = 0; i < 3; i++) engine.handleKnock(knock({ src: spoofed(i), port: '7000', at: i / 10 }));
    const decisions = engine.handleKnock(knock({ src: spoofed(3), port: '7000', at: 0.3 }));
    expect(decisions.filter((d) => d.type === 'broken')).toEqual([{ type: 'broken', time: 300, src: spoofed(0), door: 'open', reason: 'evicted', cap: 3 }]);
    expect(engine.trackedSources).toBe(3);
    expect(engine.evictions).toBe(1);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [spoofed(1), spoofed(2), spoofed(3)]]]));
  });

  // No cleanup ran between: the entry's attempt of `short` ended at its deadline, before the
  // eviction; only `long`'s is cut short by it.
  it('decides an evicted first step\'s attempts that had timed out as timeouts, before the evicted ones', () => {
    const engine = engineOf('[options]\nmax_first_steps = 1\n[long]\nsequence = 7000,9100\nseq_timeout = 10\n[short]\nsequence = 7000,8000\nseq_timeout = 5\n');
    engine.handleKnock(knock({ src: A, port: '7000', at: 0 }));
    expect(engine.handleKnock(knock({ src: B, port: '7000', at: 6 })).filter((d) => d.type === 'broken')).toEqual([
      { type: 'broken', time: 5000, src: A, door: 'short', reason: 'timeout', got: 1, of: 2, within: 5000 },
      { type: 'broken', time: 6000, src: A, door: 'long', reason: 'evicted', cap: 1 },
    ]);
    expect(engine.attemptsByDoor()).toEqual(new Map([['long', [B]], ['short', [B]]]));
  });

  it('continues a first step as a full attempt: the door opens', () => {
    const engine = engineOf(SMALL(3));
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0 }));
    expect(types(engine, { src: V6, port: '8000', at: 1 })).toEqual(['step']);
    expect(types(engine, { src: V6, port: '9000/udp', at: 2 })).toEqual(['step', 'completed']);
  });

  it('a flood of first steps never pushes out a source further along', () => {
    const engine = engineOf(SMALL(3));
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0 }));
    engine.handleKnock(knock({ src: V6, port: '8000', at: 0.1 }));
    for (let i = 0; i < 100; i++) engine.handleKnock(knock({ src: spoofed(i), port: '7000', at: 0.2 + i / 1000 }));
    expect(types(engine, { src: V6, port: '9000/udp', at: 2 })).toEqual(['step', 'completed']);
  });

  it('sees a first step\'s SYN again as a retransmission, and a wrong port after it as a break', () => {
    const engine = engineOf(SMALL(3));
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0, spt: 5000 }));
    expect(types(engine, { src: V6, port: '7000', at: 1, spt: 5000 })).toEqual(['retransmit']);
    expect(types(engine, { src: V6, port: '9000/udp', at: 2 })).toEqual(['broken']);
    // not retransmissions: another source port, or the same one past the attempt's timeout
    engine.handleKnock(knock({ src: A, port: '7000', at: 10, spt: 6000 }));
    expect(types(engine, { src: A, port: '7000', at: 11, spt: 6001 })).toEqual(['broken']);
    engine.handleKnock(knock({ src: B, port: '7000', at: 20, spt: 7000 }));
    expect(types(engine, { src: B, port: '7000', at: 25.001, spt: 7000 })).toEqual(['broken', 'step']);
  });

  it('times first steps out at cleanup, at their deadline, and forgets them once their SYN is old', () => {
    const engine = engineOf(`[options]\nretransmit_window = 2\n${ONE_DOOR}`);
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0 }));
    engine.handleKnock(knock({ src: A, port: '7000', at: 4 }));
    expect(engine.cleanup(5000)).toEqual([]);
    expect(engine.cleanup(5001)).toEqual([{ type: 'broken', time: 5000, src: V6, door: 'open', reason: 'timeout', got: 1, of: 3, within: 5000 }]);
    expect(engine.trackedSources).toBe(1);
    expect(engine.cleanup(9001).map((d) => d.src)).toEqual([A]);
    expect(engine.trackedSources).toBe(0);
  });

  // A retransmission leaves the entry where it is: it never counts against max_tracked.
  it('keeps a first step whose SYN comes again as a first-step entry', () => {
    const engine = engineOf(`[options]\nmax_tracked = 1\nmax_first_steps = 10\n${ONE_DOOR}`);
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0, spt: 5000 }));
    expect(types(engine, { src: V6, port: '7000', at: 1, spt: 5000 })).toEqual(['retransmit']);
    // a full state of another source fills max_tracked alone
    expect(types(engine, { src: A, port: '7000', at: 2 })).toEqual(['step']);
    expect(types(engine, { src: A, port: '8000', at: 3 })).toEqual(['step']);
    expect(engine.evictions).toBe(0);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [A, V6]]]));
  });

  // retransmit_window longer than seq_timeout: the attempt times out, the SYN is still one knock.
  it('keeps a timed-out first step whose SYN may still come again, until it can no more', () => {
    const engine = engineOf(`[options]\nretransmit_window = 10\n${ONE_DOOR}`);
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0, spt: 5000 }));
    expect(engine.cleanup(5001).map((d) => d.type)).toEqual(['broken']);
    expect(engine.trackedSources).toBe(1);
    expect(types(engine, { src: V6, port: '7000', at: 6, spt: 5000 })).toEqual(['retransmit']);
    engine.cleanup(16_001);
    expect(engine.trackedSources).toBe(0);
  });

  it('decides a first step\'s timeout before its SYN comes again as a retransmission', () => {
    const engine = engineOf(`[options]\nretransmit_window = 10\n${ONE_DOOR}`);
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0, spt: 5000 }));
    expect(types(engine, { src: V6, port: '7000', at: 5.5, spt: 5000 })).toEqual(['broken', 'retransmit']);
  });

  it('restarts a first step\'s retransmit_window from its last retransmission', () => {
    const engine = engineOf(`[options]\nretransmit_window = 2\n${ONE_DOOR}`);
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0, spt: 5000 }));
    expect(types(engine, { src: V6, port: '7000', at: 1.5, spt: 5000 })).toEqual(['retransmit']);
    expect(types(engine, { src: V6, port: '7000', at: 3, spt: 5000 })).toEqual(['retransmit']);
  });

  // An entry stands for all the attempts its knock started: it is due once the last is over.
  it('keeps a first step until the longest of the doors it started has timed out', () => {
    const engine = engineOf('[short]\nsequence = 7000,8000\nseq_timeout = 5\n[long]\nsequence = 7000,9100\nseq_timeout = 10\n');
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0 }));
    expect(engine.cleanup(6000)).toEqual([]);
    expect(engine.cleanup(10_001).map((d) => d.type === 'broken' && `${d.door} ${d.time}`)).toEqual(['short 5000', 'long 10000']);
  });

  // Two doors start on 7000; a knock to another address starts only the one without a
  // destination: its entry stands for that door alone, at cleanup and in status.
  it('times out only the doors a first step started, when others share its port', () => {
    const engine = engineOf(`${ONE_DOOR}[other]\nsequence = 7000,8100\nseq_timeout = 5\ndestination = 192.0.2.9\n`);
    expect(types(engine, { src: V6, port: '7000', at: 0, dst: '2001:db8::1' })).toEqual(['step']);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [V6]]]));
    expect(engine.cleanup(6000)).toEqual([{ type: 'broken', time: 5000, src: V6, door: 'open', reason: 'timeout', got: 1, of: 3, within: 5000 }]);
  });

  it('cleans up in slices with the decisions cleanup() makes, in its order', () => {
    const ini = `[options]\nretransmit_window = 2\n${ONE_DOOR}`;
    const whole = engineOf(ini);
    const sliced = engineOf(ini);
    for (const engine of [whole, sliced]) {
      // a tracked source whose attempt times out too, then 7 first steps
      engine.handleKnock(knock({ src: A, port: '7000', at: 0 }));
      engine.handleKnock(knock({ src: A, port: '8000', at: 1 }));
      for (let i = 0; i < 7; i++) engine.handleKnock(knock({ src: spoofed(i), port: '7000', at: 1 + i / 10 }));
    }
    const slices = [...sliced.cleanupInSlices(9000, 3)];
    expect(slices.map((slice) => slice.length)).toEqual([1, 3, 3, 1]);
    expect(slices.flat()).toEqual(whole.cleanup(9000));
    expect(slices.flat().map((d) => d.src)).toEqual([A, ...Array.from({ length: 7 }, (_, i) => spoofed(i))]);
  });

  it('a reload takes first steps over, as first steps', () => {
    const old = engineOf(ONE_DOOR);
    old.handleKnock(knock({ src: V6, port: '7000', at: 0, spt: 5000 }));
    const engine = engineOf(ONE_DOOR);
    engine.adoptAttempts(old);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [V6]]]));
    expect(types(engine, { src: V6, port: '7000', at: 1, spt: 5000 })).toEqual(['retransmit']);
    expect(types(engine, { src: V6, port: '8000', at: 2 })).toEqual(['step']);
    expect(types(engine, { src: V6, port: '9000/udp', at: 3 })).toEqual(['step', 'completed']);
  });

  it('forgets a first step when told to (a ban)', () => {
    const engine = engineOf(ONE_DOOR);
    engine.handleKnock(knock({ src: V6, port: '7000', at: 0 }));
    engine.forget(V6);
    expect(engine.trackedSources).toBe(0);
    expect(types(engine, { src: V6, port: '8000', at: 1 })).toEqual([]);
  });
});
