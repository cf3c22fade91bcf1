import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config, RotatingSpec } from '../../src/config/types.js';
import { DoorSet } from '../../src/doors/door-set.js';
import { deriveSequence, nextWindowTurn, RotatingKind, windowStartOf } from '../../src/doors/rotating.js';
import { WindowLedger } from '../../src/doors/window-ledger.js';
import { Engine } from '../../src/engine/engine.js';
import { describe as describeDecision, knock } from '../helpers/engine.js';

const SECRET = Buffer.from('a long random secret');
const BASE = { secret: SECRET, door: 'openSSH', windowStart: 1_700_000_000 - (1_700_000_000 % 3600), range: { low: 10000, high: 10999 }, length: 5, protocols: ['tcp'] } as const;

const rotatingIni = (extra = ''): string => `
[openSSH]
secret_file = /etc/knockwatch/openssh.secret
rotate = 1h
port_range = 10000-10999
seq_timeout = 10
${extra}
`;

function configOf(ini: string): Config {
  return parseConfig(ini, 'test.ini', undefined, undefined, () => Buffer.from('a long random secret\n'));
}

function specOf(config: Config, door = 'openSSH'): RotatingSpec {
  const knock = config.doors.find((candidate) => candidate.name === door)?.knock;
  if (knock?.kind !== 'rotating') throw new Error('not a rotating door');
  return knock;
}

// Knocks `ports` (seconds from `at`, one a second) from `src`; the engine's completions and breaks.
function knockAll(engine: Engine, ports: readonly string[], at: number, src = '203.0.113.7'): string[] {
  return ports.flatMap((port, index) => engine.handleKnock(knock({ src, port, at: at + index }))
    .filter((decision) => decision.type === 'completed' || decision.type === 'broken').map(describeDecision));
}

const portsOf = (sequence: readonly { port: number; proto: string }[]): string[] => sequence.map((step) => `${step.port}/${step.proto}`);

describe('deriveSequence', () => {
  it('gives `length` distinct ports of the range, the same for the same input', () => {
    const steps = deriveSequence(BASE);
    expect(steps).toEqual(deriveSequence({ ...BASE, secret: Buffer.from(SECRET) }));
    expect(steps).toHaveLength(5);
    expect(new Set(steps.map((step) => step.port)).size).toBe(5);
    expect(steps.every((step) => step.port >= 10000 && step.port <= 10999 && step.proto === 'tcp')).toBe(true);
  });

  // Clients derive the same sequences (knockwatch knock, other versions): the derivation
  // never changes. Pinned for a door, a door bound to a source, and a tcp,udp mix (whose
  // ten numbers come from two HMAC blocks).
  it.each([
    ['a door', {}, '10966/tcp,10544/tcp,10198/tcp,10730/tcp,10521/tcp'],
    ['a door bound to the source', { source: '203.0.113.7' }, '10013/tcp,10034/tcp,10081/tcp,10518/tcp,10203/tcp'],
    ['a tcp,udp mix', { protocols: ['tcp', 'udp'] as const }, '10966/tcp,10120/udp,10990/tcp,10740/tcp,10827/udp'],
  ])('derives what it always did for %s', (_what, change, expected) => {
    expect(deriveSequence({ ...BASE, ...change }).map((step) => `${step.port}/${step.proto}`).join(',')).toBe(expected);
  });

  // Each input that is part of the derivation changes the sequence.
  it.each([
    ['the window', { windowStart: BASE.windowStart + 3600 }],
    ['the door', { door: 'other' }],
    ['the secret', { secret: Buffer.from('another secret') }],
    ['the source', { source: '198.51.100.1' }],
  ])('changes with %s', (_what, change) => {
    expect(deriveSequence({ ...BASE, ...change })).not.toEqual(deriveSequence(BASE));
  });

  it('reads a source in any spelling as the same address', () => {
    expect(deriveSequence({ ...BASE, source: '2001:DB8:0:0::1' })).toEqual(deriveSequence({ ...BASE, source: '2001:db8::1' }));
  });

  it('uses every port of a range as small as the sequence, once each', () => {
    const steps = deriveSequence({ ...BASE, range: { low: 7000, high: 7004 } });
    expect(steps.map((step) => step.port).sort()).toEqual([7000, 7001, 7002, 7003, 7004]);
  });

  it('never uses an excluded port, over many windows', () => {
    const exclude = [10000, 10001, 10002, 10003];
    const range = { low: 10000, high: 10009 };
    for (let window = 0; window < 200; window++) {
      const ports = deriveSequence({ ...BASE, range, exclude, windowStart: window * 60 }).map((step) => step.port);
      expect(ports.filter((port) => exclude.includes(port))).toEqual([]);
    }
  });

  it('refuses a range with fewer usable ports than steps', () => {
    expect(() => deriveSequence({ ...BASE, range: { low: 7000, high: 7003 } })).toThrow(new RangeError('4 usable ports in the range, fewer than 5 steps'));
  });

  it('derives a protocol per step from a tcp,udp mix, both of them over a few windows', () => {
    const protos = new Set<string>();
    for (let window = 0; window < 10; window++) for (const step of deriveSequence({ ...BASE, protocols: ['udp', 'tcp'], windowStart: window * 3600 })) protos.add(step.proto);
    expect([...protos].sort()).toEqual(['tcp', 'udp']);
    // The order the config lists them in does not matter.
    expect(deriveSequence({ ...BASE, protocols: ['udp', 'tcp'] })).toEqual(deriveSequence({ ...BASE, protocols: ['tcp', 'udp'] }));
  });
});

describe('windowStartOf', () => {
  it('is floor(time / rotate) × rotate in epoch seconds', () => {
    expect(windowStartOf(1_700_000_123_456, 3600)).toBe(1_699_999_200);
    expect(windowStartOf(90_000, 30)).toBe(90);
    expect(windowStartOf(89_999, 30)).toBe(60);
  });
});

describe('a rotating door', () => {
  const hour = BASE.windowStart * 1000;

  it('accepts the current window and skew windows either side', () => {
    const spec = specOf(configOf(rotatingIni()));
    const kind = new RotatingKind(spec);
    const at = (window: number): string[] => portsOf(deriveSequence({ ...BASE, windowStart: BASE.windowStart + window * 3600 }));
    expect(kind.expected('203.0.113.7', hour + 1000).map(portsOf)).toEqual([at(-1), at(0), at(1)]);
    const strict = new RotatingKind({ ...spec, skew: 0 });
    expect(strict.expected('203.0.113.7', hour + 1000).map(portsOf)).toEqual([at(0)]);
    expect(kind.nextTurn(hour + 1000)).toBe(hour + 3_600_000);
  });

  it('logs only the accepted windows\' ports; a door bound to the source logs its whole range', () => {
    const spec = specOf(configOf(rotatingIni()));
    const kind = new RotatingKind(spec);
    const expected = new Set(kind.expected('203.0.113.7', hour).flatMap(portsOf));
    expect(new Set(portsOf(kind.stepsAt(hour)))).toEqual(expected);
    expect(kind.steps()).toHaveLength(1000);
    expect(new RotatingKind({ ...spec, bindSource: true }).stepsAt(hour)).toHaveLength(1000);
  });

  it('never expects a port it skips; only doors not bound to the source turn the logged ports', () => {
    const config = configOf(rotatingIni());
    const spec = specOf(config);
    const steps = new RotatingKind({ ...spec, exclude: [10005] }).steps();
    expect(steps).toHaveLength(999);
    expect(steps.some((step) => step.port === 10005)).toBe(false);
    expect(nextWindowTurn(config.doors, hour + 1000)).toBe(hour + 3_600_000);
    expect(nextWindowTurn(config.doors.map((door) => ({ ...door, knock: { ...spec, bindSource: true } })), hour + 1000)).toBe(Infinity);
  });

  it('expects the same sequence in two windows once', () => {
    // Two ports, two steps: three windows have at most two sequences.
    const kind = new RotatingKind(specOf(configOf(rotatingIni('length = 2').replace('10000-10999', '10000-10001'))));
    const expected = kind.expected('203.0.113.7', hour + 1000).map((sequence) => portsOf(sequence).join());
    expect(expected.length).toBeLessThanOrEqual(2);
    expect(new Set(expected).size).toBe(expected.length);
  });

  it('once_per_window: a second attempt already under way when the window is burnt opens nothing', () => {
    const kind = new RotatingKind({ ...specOf(configOf(rotatingIni('once_per_window = yes'))), records: new WindowLedger() });
    const [sequence] = kind.expected('203.0.113.7', hour + 1000).slice(1);
    expect(kind.completed(sequence!, '203.0.113.7', hour + 2000)).toBeUndefined();
    expect(kind.completed(sequence!, '203.0.113.7', hour + 3000)).toBe('window-used');
    expect(kind.completed(sequence!, '198.51.100.9', hour + 3000)).toBeUndefined();
  });

  it('once_per_window: the next window, used early, stays burnt for as long as it is accepted', () => {
    const ledger = new WindowLedger();
    const kind = new RotatingKind({ ...specOf(configOf(rotatingIni('once_per_window = yes'))), records: ledger });
    const next = kind.sequenceAt(hour + 1000, 1);
    expect(kind.completed(next, '203.0.113.7', hour + 1000)).toBeUndefined();
    // Accepted until the end of the window after it (skew 1).
    const until = hour + 3 * 3_600_000;
    expect(ledger.saved(until - 1)).toEqual({ openSSH: [{ src: '203.0.113.7', window: BASE.windowStart + 3600, until }] });
    expect(kind.expected('203.0.113.7', until - 1).map(portsOf)).not.toContainEqual(portsOf(next));
  });

  it('once_per_window: a used window is forgotten once it is accepted no more (memory follows what is accepted)', () => {
    const ledger = new WindowLedger();
    ledger.burn('openSSH', '203.0.113.7', 100, 5000);
    ledger.burn('openSSH', '203.0.113.8', 200, 9000);
    ledger.burn('other', '203.0.113.7', 100, 5000);
    expect(ledger.saved(4999)).toEqual({
      openSSH: [{ src: '203.0.113.7', window: 100, until: 5000 }, { src: '203.0.113.8', window: 200, until: 9000 }],
      other: [{ src: '203.0.113.7', window: 100, until: 5000 }],
    });
    expect(ledger.saved(5000)).toEqual({ openSSH: [{ src: '203.0.113.8', window: 200, until: 9000 }] });
    expect([ledger.burnt('openSSH', '203.0.113.7', 100), ledger.burnt('other', '203.0.113.7', 100), ledger.burnt('openSSH', '203.0.113.8', 200)]).toEqual([false, false, true]);
  });

  it('opens with the current, previous or next window\'s sequence, not with one two windows away', () => {
    const config = configOf(rotatingIni());
    for (const [offset, opens] of [[-2, false], [-1, true], [0, true], [1, true], [2, false]] as const) {
      const engine = new Engine(new DoorSet(config.doors), config.options);
      const sequence = deriveSequence({ ...BASE, windowStart: BASE.windowStart + offset * 3600 });
      const result = knockAll(engine, portsOf(sequence), BASE.windowStart + 100);
      expect(result.includes('completed openSSH 203.0.113.7')).toBe(opens);
    }
  });

  // A window's sequence is accepted while the window is within skew of the current one, and
  // no longer: an attempt that started in time but ends after that opens nothing, with
  // once_per_window or without it (before, only once_per_window doors checked).
  it.each([
    ['skew = 0', 'skew = 0', 0],
    ['skew = 0, once_per_window', 'skew = 0\nonce_per_window = yes', 0],
    ['skew = 1, the previous window', '', -1],
  ])('opens nothing for a knock in flight when its window is accepted no more (%s)', (_what, extra, offset) => {
    const config = configOf(rotatingIni(extra));
    const sequence = portsOf(deriveSequence({ ...BASE, windowStart: BASE.windowStart + offset * 3600 }));
    // Three steps before the turn, two after it (one a second; seq_timeout 10).
    const late = knockAll(new Engine(new DoorSet(config.doors), config.options), sequence, BASE.windowStart + 3600 - 3);
    expect(late).toEqual(['broken openSSH 203.0.113.7 window-gone']);
    // The same knock a little earlier, all of it before the turn, opens.
    expect(knockAll(new Engine(new DoorSet(config.doors), config.options), sequence, BASE.windowStart + 3600 - 6)).toEqual(['completed openSSH 203.0.113.7']);
  });

  it('opens nothing for a mix of two windows, even where they share a port', () => {
    // A small range: the windows share ports.
    const config = configOf(rotatingIni().replace('10000-10999', '10000-10007'));
    const range = { low: 10000, high: 10007 };
    const now = portsOf(deriveSequence({ ...BASE, range }));
    const next = portsOf(deriveSequence({ ...BASE, range, windowStart: BASE.windowStart + 3600 }));
    expect(now.some((port) => next.includes(port))).toBe(true);
    for (const cut of [1, 2, 3, 4]) {
      const engine = new Engine(new DoorSet(config.doors), config.options);
      const mix = [...now.slice(0, cut), ...next.slice(cut)];
      if (mix.join() === now.join() || mix.join() === next.join()) continue;
      expect(knockAll(engine, mix, BASE.windowStart + 100)).not.toContain('completed openSSH 203.0.113.7');
    }
  });

  it('bind_source: a sequence derived for one address opens for it and not for another', () => {
    const config = configOf(rotatingIni('bind_source = yes'));
    const mine = portsOf(deriveSequence({ ...BASE, source: '203.0.113.7' }));
    expect(knockAll(new Engine(new DoorSet(config.doors), config.options), mine, BASE.windowStart + 100, '203.0.113.7')).toEqual(['completed openSSH 203.0.113.7']);
    expect(knockAll(new Engine(new DoorSet(config.doors), config.options), mine, BASE.windowStart + 100, '198.51.100.9')).not.toContain('completed openSSH 198.51.100.9');
  });

  it('once_per_window: a window opens once per address; another address is not affected; the ledger carries it to a new door set', () => {
    const ledger = new WindowLedger();
    const config = configOf(rotatingIni('once_per_window = yes'));
    const doors = config.doors.map((door) => ({ ...door, knock: { ...specOf(config), records: ledger } }));
    const engine = new Engine(new DoorSet(doors), config.options);
    const sequence = portsOf(deriveSequence(BASE));
    expect(knockAll(engine, sequence, BASE.windowStart + 100)).toEqual(['completed openSSH 203.0.113.7']);
    expect(knockAll(engine, sequence, BASE.windowStart + 200)).toEqual([]);
    expect(knockAll(engine, sequence, BASE.windowStart + 300, '198.51.100.9')).toEqual(['completed openSSH 198.51.100.9']);
    // A restart: the ledger saved and read back into a fresh one, a fresh engine.
    const restored = new WindowLedger();
    restored.restore(JSON.parse(JSON.stringify(ledger.saved(BASE.windowStart * 1000 + 400_000))));
    const again = new Engine(new DoorSet(config.doors.map((door) => ({ ...door, knock: { ...specOf(config), records: restored } }))), config.options);
    expect(knockAll(again, sequence, BASE.windowStart + 500)).toEqual([]);
    // The next window's sequence still opens.
    expect(knockAll(again, portsOf(deriveSequence({ ...BASE, windowStart: BASE.windowStart + 3600 })), BASE.windowStart + 3700)).toEqual(['completed openSSH 203.0.113.7']);
  });

  // Two ports, two steps: neighbouring windows share a sequence half the time. Used in the
  // earlier window, it opens nothing in the later one, where it was accepted no sooner.
  it('once_per_window: a sequence used in one window is burnt in the next window that has it too', () => {
    const spec = specOf(configOf(rotatingIni('length = 2\nonce_per_window = yes').replace('10000-10999', '10000-10001')));
    const seqAt = (window: number): string => portsOf(deriveSequence({ ...BASE, range: { low: 10000, high: 10001 }, length: 2, windowStart: window })).join();
    // The first hour after BASE whose next two windows have the same sequence, the one before them another.
    let a = BASE.windowStart;
    while (!(seqAt(a + 3600) === seqAt(a + 7200) && seqAt(a) !== seqAt(a + 3600) && seqAt(a - 3600) !== seqAt(a + 3600))) a += 3600;
    const kind = new RotatingKind({ ...spec, records: new WindowLedger() });
    const [first] = kind.expected('203.0.113.7', a * 1000 + 1000).filter((sequence) => portsOf(sequence).join() === seqAt(a + 3600));
    expect(kind.completed(first!, '203.0.113.7', a * 1000 + 2000)).toBeUndefined();
    // An hour on, window a + 7200 is accepted too and derives the same sequence: not expected, not opened.
    const later = (a + 3600) * 1000 + 1000;
    expect(kind.expected('203.0.113.7', later).map((sequence) => portsOf(sequence).join())).not.toContain(seqAt(a + 3600));
    expect(kind.completed(first!, '203.0.113.7', later)).toBe('window-used');
    // Another address is not affected.
    expect(kind.completed(first!, '198.51.100.9', later)).toBeUndefined();
  });

  it('once_per_window: a sequence no accepted window has (any more) opens nothing', () => {
    const kind = new RotatingKind({ ...specOf(configOf(rotatingIni('once_per_window = yes'))), records: new WindowLedger() });
    expect([-2, 2, 5].map((offset) => kind.completed(kind.sequenceAt(hour + 1000, offset), '203.0.113.7', hour + 1000))).toEqual(['window-gone', 'window-gone', 'window-gone']);
    expect(kind.completed(kind.sequenceAt(hour + 1000, 1), '203.0.113.7', hour + 1000)).toBeUndefined();
  });

  it('once_per_window: a used window is forgotten once no skew window accepts it', () => {
    const ledger = new WindowLedger();
    ledger.burn('openSSH', '203.0.113.7', BASE.windowStart, (BASE.windowStart + 7200) * 1000);
    expect(ledger.saved((BASE.windowStart + 7199) * 1000)).toEqual({ openSSH: [{ src: '203.0.113.7', window: BASE.windowStart, until: (BASE.windowStart + 7200) * 1000 }] });
    expect(ledger.saved((BASE.windowStart + 7200) * 1000)).toEqual({});
  });
});

// The ledger's latest window per door: it only moves on; a window before it is told once
// (the clock went back) until the clock is past the latest again.
describe('the window ledger\'s latest windows', () => {
  it('moves on with later windows only, saves each move, and tells of a clock behind once', () => {
    let saves = 0;
    const behind: unknown[][] = [];
    const ledger = new WindowLedger(() => { saves++; }, (...args) => behind.push(args));
    expect([ledger.current('d', 100, 50), ledger.current('d', 200, 50), ledger.current('d', 200, 50)]).toEqual([100, 200, 200]);
    expect([saves, behind]).toEqual([2, []]);
    expect([ledger.current('d', 100, 50), ledger.current('d', 150, 50)]).toEqual([200, 200]);
    expect([saves, behind]).toEqual([2, [['d', 100, 200]]]);
    // Past the latest again: told anew the next time the clock goes back.
    expect([ledger.current('d', 300, 50), ledger.current('d', 100, 50)]).toEqual([300, 300]);
    expect([saves, behind, ledger.latestWindows()]).toEqual([3, [['d', 100, 200], ['d', 100, 300]], { d: 300 }]);
  });

  it('a saved latest window never moves a door\'s back (a reload keeps the ledger)', () => {
    const ledger = new WindowLedger();
    ledger.current('d', 200, 50);
    ledger.restoreLatest({ d: 100, e: 50 });
    expect(ledger.latestWindows()).toEqual({ d: 200, e: 50 });
    ledger.restoreLatest({ d: 300 });
    expect(ledger.latestWindows()).toEqual({ d: 300, e: 50 });
  });

  it('saves the used windows it restored as they were', () => {
    const saved = { d: [{ src: '203.0.113.7', window: 100, until: 5000 }] };
    const ledger = new WindowLedger();
    ledger.restore(saved);
    expect(ledger.saved(0)).toEqual(saved);
  });

  it('a door without once_per_window opens as often as it is knocked in one window', () => {
    const config = configOf(rotatingIni());
    const doors = config.doors.map((door) => ({ ...door, knock: { ...specOf(config), records: new WindowLedger() } }));
    const engine = new Engine(new DoorSet(doors), config.options);
    const sequence = portsOf(deriveSequence(BASE));
    expect([knockAll(engine, sequence, BASE.windowStart + 100), knockAll(engine, sequence, BASE.windowStart + 200)]).toEqual([['completed openSSH 203.0.113.7'], ['completed openSSH 203.0.113.7']]);
  });
});
