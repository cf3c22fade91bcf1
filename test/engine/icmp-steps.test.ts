import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { describeKnock } from '../../src/doors/format-step.js';
import type { Knock } from '../../src/filters/events.js';
import { describeBreak } from '../../src/runtime/log-events.js';
import { configProblems } from '../helpers/config-problems.js';
import { describe as describeDecision, engineOf, knock } from '../helpers/engine.js';

const DOOR = `
[open]
sequence = 7000,icmp:100,9000
seq_timeout = 5
`;

const V6 = 'fd00:214::2';

// An ICMP knock as the filter builds it: the type and the IP packet's LEN=.
function ping(at: number, len: number, icmpType = 8, src?: string): Knock {
  return { ...knock({ port: 'icmp', at, ...(src !== undefined ? { src } : {}) }), icmpType, len };
}

function syn(at: number, port: number, src?: string): Knock {
  return knock({ port: String(port), at, ...(src !== undefined ? { src } : {}) });
}

function outcomes(ini: string, knocks: readonly Knock[]): string[] {
  const engine = engineOf(ini);
  return knocks.flatMap((each) => engine.handleKnock(each)).filter((decision) => decision.type === 'completed' || decision.type === 'broken').map(describeDecision);
}

describe('config: icmp:N steps', () => {
  it('reads icmp:N as an echo request of N bytes, shown as check shows it', () => {
    const door = parseConfig(DOOR, 'test.ini').doors[0];
    expect(door?.knock).toEqual({ kind: 'static', sequence: [{ port: 7000, proto: 'tcp' }, { port: 100, proto: 'icmp' }, { port: 9000, proto: 'tcp' }] });
    expect(door && describeKnock(door)).toEqual(['sequence', '7000/tcp, icmp:100, 9000/tcp']);
  });

  it.each([
    // the smallest echo request (20 + 8 bytes) up to the largest IP packet
    ['icmp:28', []],
    ['ICMP:65535', []],
    // shorter than the headers, longer than IP allows, not a number, another type asked for
    ['icmp:27', ['knockwatch.ini [d] sequence: expected an echo request\'s IP packet length after "icmp:" (28-65535; IPv6 needs 48 or more), found "icmp:27"']],
    ['icmp:65536', ['knockwatch.ini [d] sequence: expected an echo request\'s IP packet length after "icmp:" (28-65535; IPv6 needs 48 or more), found "icmp:65536"']],
    ['icmp:100:reply', ['knockwatch.ini [d] sequence: expected an echo request\'s IP packet length after "icmp:" (28-65535; IPv6 needs 48 or more), found "icmp:100:reply"']],
    ['icmp', ['knockwatch.ini [d] sequence: expected a port (1-65535), found "icmp"']],
    ['100:icmp', ['knockwatch.ini [d] sequence: expected tcp or udp after "100:", found "100:icmp"']],
  ])('sequence = 7000,%s', (step, expected) => {
    expect(configProblems(`[d]\nsequence = 7000,${step}`)).toEqual(expected);
  });

  it.each([
    // what a door opens and trap ports are ports, never echo lengths
    ['[d]\nsequence = 7000,8000\nopen = icmp/100', ['knockwatch.ini [d] open: expected a port (1-65535), found "icmp"']],
    ['[options]\ntrap_ports = icmp:100\n[d]\nsequence = 7000', ['knockwatch.ini [options] trap_ports: expected a port (1-65535), found "icmp"']],
  ])('%j is refused', (text, expected) => {
    expect(configProblems(text)).toEqual(expected);
  });
});

describe('engine: icmp:N steps', () => {
  it.each<[string, Knock[], string[]]>([
    ['SYN 7000, a ping of LEN 100, SYN 9000 open the door', [syn(0, 7000), ping(1, 100), syn(2, 9000)], ['completed open 203.0.113.7']],
    ['the same over IPv6 (ICMPv6 type 128)', [syn(0, 7000, V6), ping(1, 100, 128, V6), syn(2, 9000, V6)], [`completed open ${V6}`]],
    // a ping of another size is not the step: the next door port comes out of sequence
    ['a ping of LEN 101 instead breaks the attempt', [syn(0, 7000), ping(1, 101), syn(2, 9000)], ['broken open 203.0.113.7 wrong-port']],
    ['so does an IPv6 ping of LEN 101', [syn(0, 7000, V6), ping(1, 101, 128, V6), syn(2, 9000, V6)], [`broken open ${V6} wrong-port`]],
    // replies and other ICMP types are never the step
    ['an echo reply of LEN 100 is not the step', [syn(0, 7000), ping(1, 100, 0), syn(2, 9000)], ['broken open 203.0.113.7 wrong-port']],
    ['an ICMPv4 type 128 is not an echo request', [syn(0, 7000), ping(1, 100, 128), syn(2, 9000)], ['broken open 203.0.113.7 wrong-port']],
    ['an ICMPv6 type 8 is not an echo request', [syn(0, 7000, V6), ping(1, 100, 8, V6), syn(2, 9000, V6)], [`broken open ${V6} wrong-port`]],
    // like a knock on an unrelated port, other ICMP leaves a lenient door's attempt alone
    ['a reply and a ping of another size in between change nothing', [syn(0, 7000), ping(0.5, 100, 0), ping(0.7, 64), ping(1, 100), syn(2, 9000)], ['completed open 203.0.113.7']],
    // the step is the echo request, not TCP port 100
    ['SYN to port 100 is not the step', [syn(0, 7000), syn(1, 100), syn(2, 9000)], ['broken open 203.0.113.7 wrong-port']],
  ])('%s', (_what, knocks, expected) => {
    expect(outcomes(DOOR, knocks)).toEqual(expected);
  });

  // What `status`, the journal and --json show: the ping's length, as the step it is.
  it('names a ping in its decisions by its length, in a strict break too; other ICMP as icmp', () => {
    const engine = engineOf(DOOR);
    engine.handleKnock(syn(0, 7000));
    expect(engine.handleKnock(ping(1, 100))).toEqual([{ type: 'step', time: 1000, src: '203.0.113.7', door: 'open', step: 2, of: 3, knock: { port: 100, proto: 'icmp' } }]);
    expect(engine.handleKnock(ping(2, 100))).toEqual([{ type: 'broken', time: 2000, src: '203.0.113.7', door: 'open', reason: 'wrong-port',
      got: { port: 100, proto: 'icmp' }, step: 3, expected: { port: 9000, proto: 'tcp' } }]);
    const strict = engineOf(`${DOOR}strict = yes\n`);
    strict.handleKnock(syn(0, 7000));
    expect(strict.handleKnock(ping(1, 64))).toEqual([{ type: 'broken', time: 1000, src: '203.0.113.7', door: 'open', reason: 'strict', got: { port: 64, proto: 'icmp' } }]);
    strict.handleKnock(syn(2, 7000));
    expect(strict.handleKnock(ping(3, 64, 0))).toEqual([{ type: 'broken', time: 3000, src: '203.0.113.7', door: 'open', reason: 'strict', got: 'icmp' }]);
  });

  it('a ping of another size breaks a strict door', () => {
    expect(outcomes(`${DOOR}strict = yes\n`, [syn(0, 7000), ping(1, 64), ping(1.5, 100), syn(2, 9000)])).toEqual(['broken open 203.0.113.7 strict']);
  });
});

describe('a strict break, as the log and replay word it', () => {
  it.each([
    ['an echo request of another size', { port: 64, proto: 'icmp' } as const, 'other packet icmp:64 (strict door)'],
    ['other ICMP', 'icmp' as const, 'other packet icmp (not an echo request) (strict door)'],
    ['a TCP port', { port: 22, proto: 'tcp' } as const, 'other packet 22/tcp (strict door)'],
  ])('%s', (_what, got, text) => {
    expect(describeBreak({ reason: 'strict', got })).toBe(text);
  });
});
