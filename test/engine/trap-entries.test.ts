import { describe as group, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { collectedMemory } from '../helpers/collected-memory.js';
import { engineOf, knock, type KnockSpec, ONE_DOOR } from '../helpers/engine.js';

const A = '203.0.113.7';
const V6 = '2001:db8::7';
const TRAP = `[options]\ntrap_ports = 7500\ntrap_for = 60\n`;

const types = (engine: Engine, spec: KnockSpec) => engine.handleKnock(knock(spec)).map((decision) => decision.type);
const spoofed = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

// A new source's knock on a trap port is kept as a trap entry (engine.ts: a compact table of
// its own, max_tracked entries), not as a full state.
group('engine: trap periods of new sources', () => {
  it('refuses a trapped source on a door port until trap_for ends, and says nothing on other ports', () => {
    for (const src of [A, V6]) {
      const engine = engineOf(`${TRAP}${ONE_DOOR}`);
      expect(engine.handleKnock(knock({ src, port: '7500', at: 0 }))).toEqual([
        { type: 'trapped', time: 0, src, until: 60_000, knock: { port: 7500, proto: 'tcp' } },
      ]);
      expect(engine.handleKnock(knock({ src, port: '7000', at: 59.999 }))).toEqual([
        { type: 'refused', time: 59_999, src, until: 60_000, reason: 'trapped' },
      ]);
      expect(types(engine, { src, port: '7500', at: 30 })).toEqual([]);
      expect(types(engine, { src, port: '22', at: 30 })).toEqual([]);
      expect(engine.trackedSources).toBe(1);
      // Another address is not trapped.
      expect(types(engine, { src: '198.51.100.1', port: '7000', at: 1 })).toEqual(['step']);
    }
  });

  it('is a new source once its trap period is over, before a cleanup as after one', () => {
    const engine = engineOf(`${TRAP}${ONE_DOOR}`);
    engine.handleKnock(knock({ src: A, port: '7500', at: 0 }));
    expect(types(engine, { src: A, port: '7000', at: 60 })).toEqual(['step']);
    expect(types(engine, { src: A, port: '8000', at: 61 })).toEqual(['step']);
    expect(types(engine, { src: A, port: '9000/udp', at: 62 })).toEqual(['step', 'completed']);

    const again = engineOf(`${TRAP}${ONE_DOOR}`);
    again.handleKnock(knock({ src: A, port: '7500', at: 0 }));
    expect(types(again, { src: A, port: '7500', at: 60.5 })).toEqual(['trapped']);
    expect(types(again, { src: A, port: '7000', at: 120.4 })).toEqual(['refused']);
    expect(again.cleanup(120_500)).toEqual([]);
    expect(again.trackedSources).toBe(0);
  });

  it('never traps a whitelisted source', () => {
    const engine = engineOf(`[options]\nwhitelist = 203.0.113.0/24\ntrap_ports = 7500\n${ONE_DOOR}`);
    expect(types(engine, { src: A, port: '7500', at: 0 })).toEqual([]);
    expect(engine.trackedSources).toBe(0);
    expect(types(engine, { src: A, port: '7000', at: 1 })).toEqual(['step']);
  });

  it('ends a trap period when told to forget the source (a ban)', () => {
    const engine = engineOf(`${TRAP}${ONE_DOOR}`);
    engine.handleKnock(knock({ src: V6, port: '7500', at: 0 }));
    engine.forget(V6);
    expect(engine.trackedSources).toBe(0);
    expect(types(engine, { src: V6, port: '7000', at: 1 })).toEqual(['step']);
  });

  it('keeps max_tracked trap periods besides the full states; a flood of them evicts the oldest, never progress', () => {
    const engine = engineOf(`[options]\nmax_tracked = 100\ntrap_ports = 7500\ntrap_for = 600\n${ONE_DOOR}`);
    engine.handleKnock(knock({ src: A, port: '7000', at: 0 }));
    engine.handleKnock(knock({ src: A, port: '8000', at: 0.1 }));
    for (let n = 0; n < 300; n++) engine.handleKnock(knock({ src: spoofed(n), port: '7500', at: 0.2 + n / 1000 }));
    expect(engine.trackedSources).toBe(101);
    expect(engine.evictions).toBe(200);
    expect(types(engine, { src: spoofed(199), port: '7000', at: 1 })).toEqual(['step']);
    expect(types(engine, { src: spoofed(200), port: '7000', at: 1 })).toEqual(['refused']);
    expect(types(engine, { src: A, port: '9000/udp', at: 1 })).toEqual(['step', 'completed']);
  });

  it('does not count a trap period that is over as an eviction when the table is full', () => {
    const engine = engineOf(`[options]\nmax_tracked = 2\ntrap_ports = 7500\ntrap_for = 1\n${ONE_DOOR}`);
    engine.handleKnock(knock({ src: spoofed(1), port: '7500', at: 0 }));
    engine.handleKnock(knock({ src: spoofed(2), port: '7500', at: 0.5 }));
    // The first is over at 1 s (a trap period ends at its end), the second is not.
    engine.handleKnock(knock({ src: spoofed(3), port: '7500', at: 1 }));
    expect(engine.evictions).toBe(0);
    engine.handleKnock(knock({ src: spoofed(4), port: '7500', at: 1.3 }));
    expect(engine.evictions).toBe(1);
    expect(types(engine, { src: spoofed(2), port: '7000', at: 1.4 })).toEqual(['step']);
    expect(types(engine, { src: spoofed(3), port: '7000', at: 1.4 })).toEqual(['refused']);
  });

  it('with max_first_steps = 0, keeps trap periods as full states counted against max_tracked', () => {
    const engine = engineOf(`[options]\nmax_tracked = 100\nmax_first_steps = 0\ntrap_ports = 7500\ntrap_for = 600\n${ONE_DOOR}`);
    for (let n = 0; n < 300; n++) engine.handleKnock(knock({ src: spoofed(n), port: '7500', at: n / 1000 }));
    expect(engine.trackedSources).toBe(100);
    expect(engine.evictions).toBe(200);
  });

  it('a reload takes trap periods over, into a trap table or, without one, as full states', () => {
    for (const table of ['', 'max_first_steps = 0\n']) {
      const old = engineOf(`${TRAP}${ONE_DOOR}`);
      old.handleKnock(knock({ src: V6, port: '7500', at: 0 }));
      const engine = engineOf(`${TRAP}${table}${ONE_DOOR}`);
      engine.adoptAttempts(old);
      expect(engine.trackedSources).toBe(1);
      expect(types(engine, { src: V6, port: '7000', at: 59 })).toEqual(['refused']);
      engine.cleanup(60_000);
      expect(engine.trackedSources).toBe(0);
      expect(types(engine, { src: V6, port: '7000', at: 60 })).toEqual(['step']);
    }
  });

  it('a reload into a smaller table keeps the newest trap periods', () => {
    const old = engineOf(`${TRAP}${ONE_DOOR}`);
    for (let n = 0; n < 5; n++) old.handleKnock(knock({ src: spoofed(n), port: '7500', at: n }));
    const engine = engineOf(`[options]\nmax_tracked = 2\ntrap_ports = 7500\ntrap_for = 60\n${ONE_DOOR}`);
    engine.adoptAttempts(old);
    expect(engine.trackedSources).toBe(2);
    expect([0, 1, 2, 3, 4].map((n) => types(engine, { src: spoofed(n), port: '8000', at: 10 }).join())).toEqual(['', '', '', 'refused', 'refused']);
    // Taken over as entries, not as full states: two sources past their first step fit besides them.
    for (const src of [A, V6]) {
      engine.handleKnock(knock({ src, port: '7000', at: 11 }));
      engine.handleKnock(knock({ src, port: '8000', at: 12 }));
    }
    expect(engine.trackedSources).toBe(4);
    expect(engine.evictions).toBe(0);
  });

  // A full state per trapped source took ~320 bytes of heap (32 MB here); an entry takes ~60
  // bytes of one array buffer with its index (6 MB here).
  it('holds a trap-port flood of 100,000 new sources in a few MB', async () => {
    const engine = engineOf(`[options]\nmax_tracked = 200000\ntrap_ports = 7500\ntrap_for = 600\n${ONE_DOOR}`);
    const before = await collectedMemory((usage) => usage.heapUsed + usage.arrayBuffers);
    for (let n = 0; n < 100_000; n++) engine.handleKnock(knock({ src: spoofed(n), port: '7500', at: n / 1000 }));
    const grown = await collectedMemory((usage) => usage.heapUsed + usage.arrayBuffers) - before;
    expect(engine.trackedSources).toBe(100_000);
    expect(grown).toBeLessThan(12 * 1048576);
  });
});
