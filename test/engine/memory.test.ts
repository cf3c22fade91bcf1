import { describe as group, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { engineOf, knock, type KnockSpec, ONE_DOOR } from '../helpers/engine.js';

const A = '203.0.113.7';
const B = '198.51.100.23';
const C = '198.51.100.99';

const types = (engine: Engine, spec: KnockSpec) => engine.handleKnock(knock(spec)).map((decision) => decision.type);

group('engine: what cleanup(now) forgets', () => {
  it('keeps a source whose attempt is still within seq_timeout, even when its SYNs are old', () => {
    const engine = engineOf(`[options]\nretransmit_window = 1\n${ONE_DOOR}`);
    engine.handleKnock(knock({ port: '7000', at: 0 }));
    expect(engine.cleanup(3000)).toEqual([]);
    expect(engine.trackedSources).toBe(1);
    expect(types(engine, { port: '8000', at: 4 })).toEqual(['step']);
    expect(types(engine, { port: '9000/udp', at: 4.5 })).toEqual(['step', 'completed']);
  });

  it('keeps a trapped source until trap_for ends, and forgets it then', () => {
    const engine = engineOf(`[options]\ntrap_ports = 7500\ntrap_for = 60\n${ONE_DOOR}`);
    engine.handleKnock(knock({ port: '7500', at: 0 }));
    engine.cleanup(59_999);
    expect(engine.trackedSources).toBe(1);
    expect(types(engine, { port: '7000', at: 59.999 })).toEqual(['refused']);
    engine.cleanup(60_000);
    expect(engine.trackedSources).toBe(0);
  });

  it('keeps a source until none of its SYNs can be retransmitted any more', () => {
    const engine = engineOf(`[options]\nretransmit_window = 2\n${ONE_DOOR}`);
    engine.handleKnock(knock({ port: '7000', at: 10, spt: 5000 }));
    // a second knock on 7000 from another source port breaks the attempt: no attempt left
    expect(types(engine, { port: '7000', at: 11, spt: 5001 })).toEqual(['broken']);
    // the SYN of 10 s is past the window, the one of 11 s just at its end
    engine.cleanup(13_000);
    expect(engine.trackedSources).toBe(1);
    engine.cleanup(13_001);
    expect(engine.trackedSources).toBe(0);
  });

  it('remembers a retransmittable SYN across cleanup: the same SYN again is still one knock', () => {
    const engine = engineOf(`[options]\nretransmit_window = 2\n${ONE_DOOR}`);
    engine.handleKnock(knock({ port: '7000', at: 10, spt: 5000 }));
    engine.handleKnock(knock({ port: '9000/udp', at: 10.5 }));
    engine.cleanup(12_000);
    expect(types(engine, { port: '7000', at: 12, spt: 5000 })).toEqual(['retransmit']);
  });
});

group('engine: the SYNs remembered per source', () => {
  // An attempt in progress, then `others` SYNs to ports no door uses, then the first SYN again.
  const againAfter = (others: number) => {
    const engine = engineOf(ONE_DOOR);
    engine.handleKnock(knock({ port: '7000', at: 0, spt: 5000 }));
    for (let i = 0; i < others; i++) engine.handleKnock(knock({ port: String(1000 + i), at: 0.1 + i / 100, spt: 6000 + i }));
    return types(engine, { port: '7000', at: 1, spt: 5000 });
  };

  it('knows the last 8 SYNs of a source as possible retransmissions', () => {
    expect(againAfter(7)).toEqual(['retransmit']);
  });

  it('forgets older ones, so their repetition is a knock', () => {
    expect(againAfter(8)).toEqual(['broken']);
  });
});

group('engine: a reload takes over the attempts in progress (adoptAttempts)', () => {
  const reload = (old: Engine, ini: string) => {
    const engine = engineOf(ini);
    engine.adoptAttempts(old);
    return engine;
  };

  it('continues an attempt of a door that stayed the same', () => {
    const old = engineOf(ONE_DOOR);
    old.handleKnock(knock({ port: '7000', at: 0 }));
    const engine = reload(old, ONE_DOOR);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [A]]]));
    expect(types(engine, { port: '8000', at: 1 })).toEqual(['step']);
    expect(types(engine, { port: '9000/udp', at: 2 })).toEqual(['step', 'completed']);
  });

  it('drops the attempt of a door whose settings changed', () => {
    const old = engineOf(ONE_DOOR);
    old.handleKnock(knock({ port: '7000', at: 0 }));
    const engine = reload(old, ONE_DOOR.replace('seq_timeout = 5', 'seq_timeout = 6'));
    expect(engine.attemptsByDoor()).toEqual(new Map());
    expect(types(engine, { port: '8000', at: 1 })).toEqual([]);
  });

  it('drops the attempt of a door that went', () => {
    const old = engineOf(ONE_DOOR);
    old.handleKnock(knock({ port: '7000', at: 0 }));
    const engine = reload(old, '[other]\nsequence = 7100,8100\n');
    expect(engine.attemptsByDoor()).toEqual(new Map());
  });

  it('continues an order = any attempt with the steps still missing', () => {
    const ini = `${ONE_DOOR}order = any\n`;
    const old = engineOf(ini);
    old.handleKnock(knock({ port: '9000/udp', at: 0 }));
    const engine = reload(old, ini);
    expect(types(engine, { port: '7000', at: 1 })).toEqual(['step']);
    expect(types(engine, { port: '8000', at: 2 })).toEqual(['step', 'completed']);
  });

  it('takes over the recent SYNs: a retransmission right after the reload is still one knock', () => {
    const old = engineOf(ONE_DOOR);
    old.handleKnock(knock({ port: '7000', at: 0, spt: 5000 }));
    const engine = reload(old, ONE_DOOR);
    expect(types(engine, { port: '7000', at: 1, spt: 5000 })).toEqual(['retransmit']);
  });

  it('keeps the youngest sources when max_tracked is now smaller', () => {
    const old = engineOf(ONE_DOOR);
    for (const [i, src] of [A, B, C].entries()) old.handleKnock(knock({ src, port: '7000', at: i }));
    const engine = reload(old, `[options]\nmax_tracked = 2\nmax_first_steps = 0\n${ONE_DOOR}`);
    expect(engine.trackedSources).toBe(2);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [B, C]]]));
  });
});
