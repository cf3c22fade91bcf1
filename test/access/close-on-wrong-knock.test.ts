import { describe, expect, it } from 'vitest';
import { Access } from '../../src/access/access.js';
import { DoorSet } from '../../src/doors/door-set.js';
import { Engine } from '../../src/engine/engine.js';
import { TcpFlag } from '../../src/filters/events.js';
import { config, knock, type KnockSpec } from '../helpers/engine.js';

const A = '203.0.113.7';
const B = '203.0.113.8';

const INI = `[options]
trap_ports = 6000
[open]
sequence = 7000,8000,9000:udp
seq_timeout = 5
tcpflags = syn
open_for = 600
close_on_wrong_knock = yes
[web]
sequence = 7000,8000,9500
seq_timeout = 5
open = 443/tcp
open_for = 600
[plain]
sequence = 3000,4000
seq_timeout = 5
open = 80/tcp
open_for = 600
`;

// The engine and access wired as the pipeline wires them: the engine's decisions first (a
// completion goes to access.completed), then access.knocked with the knock and its decisions.
function lab(ini = INI): (spec: KnockSpec) => string[] {
  const { doors, options } = config(ini);
  const engine = new Engine(new DoorSet(doors), options);
  const access = new Access(doors, options);
  return (spec) => {
    const event = knock({ src: A, ...spec });
    const decisions = engine.handleKnock(event, access.bannedUntil(event.src, event.time));
    const out: string[] = [];
    for (const decision of decisions) {
      if (decision.type === 'completed') for (const result of access.completed(decision.src, decision.door, decision.time)) out.push(`${result.type} ${'door' in result ? result.door : ''}`);
    }
    for (const result of access.knocked(event, decisions)) out.push(result.type === 'close' ? `close ${result.door} by ${result.by}` : result.type);
    return out;
  };
}

function openDoor(send: (spec: KnockSpec) => string[], at = 0): void {
  expect([send({ port: '7000', at }), send({ port: '8000', at: at + 1 }), send({ port: '9000/udp', at: at + 2 })]).toEqual([[], [], ['open open']]);
}

describe('close_on_wrong_knock', () => {
  // Knocks of the granted address after its door opened, and what they close.
  it.each([
    { name: 'a later step with nothing in progress (the engine decides nothing)', knocks: [{ port: '8000', at: 10 }], closes: [['close open by wrong-knock']] },
    { name: 'the last step alone', knocks: [{ port: '9000/udp', at: 10 }], closes: [['close open by wrong-knock']] },
    { name: 'a step that breaks a new attempt', knocks: [{ port: '7000', at: 10 }, { port: '9000/udp', at: 11 }], closes: [[], ['close open by wrong-knock']] },
    { name: 'the first step twice (the second breaks the attempt)', knocks: [{ port: '7000', at: 10 }, { port: '7000', at: 11 }], closes: [[], ['close open by wrong-knock']] },
    { name: 'the same port with the door\'s protocol other than its step', knocks: [{ port: '9000', at: 10 }], closes: [[]] },
    { name: 'a port of no door', knocks: [{ port: '7001', at: 10 }], closes: [[]] },
    { name: 'the first step: a re-knock starting', knocks: [{ port: '7000', at: 10 }], closes: [[]] },
    { name: 'a knock whose TCP flags do not fit the door', knocks: [{ port: '8000', at: 10, flags: TcpFlag.ACK }], closes: [[]] },
    { name: 'the steps of another door that shares them', knocks: [{ port: '7000', at: 10 }, { port: '8000', at: 11 }, { port: '9500', at: 12 }], closes: [[], [], ['open web']] },
    { name: 'the correct sequence again: extended, not closed', knocks: [{ port: '7000', at: 10 }, { port: '8000', at: 11 }, { port: '9000/udp', at: 12 }], closes: [[], [], ['extend open']] },
  ])('$name', ({ knocks, closes }) => {
    const send = lab();
    openDoor(send);
    expect(knocks.map((spec) => send(spec))).toEqual(closes);
  });

  it('closes only the knocking address\'s grant', () => {
    const send = lab();
    openDoor(send);
    expect([send({ src: B, port: '7000', at: 3 }), send({ src: B, port: '8000', at: 4 }), send({ src: B, port: '9000/udp', at: 5 })]).toEqual([[], [], ['open open']]);
    expect(send({ port: '8000', at: 10 })).toEqual(['close open by wrong-knock']);
    // B's grant is still there: its own wrong knock closes it.
    expect(send({ src: B, port: '8000', at: 11 })).toEqual(['close open by wrong-knock']);
  });

  it('an address without a grant closes nothing', () => {
    const send = lab();
    expect(send({ port: '8000', at: 0 })).toEqual([]);
  });

  it('a door without it keeps its grant on a wrong knock', () => {
    const send = lab();
    expect([send({ port: '3000', at: 0 }), send({ port: '4000', at: 1 })]).toEqual([[], ['open plain']]);
    expect(send({ port: '4000', at: 10 })).toEqual([]);
  });

  it('a retransmitted SYN of the first step is no wrong knock', () => {
    const send = lab();
    openDoor(send);
    expect([send({ port: '7000', at: 10, spt: 50_000 }), send({ port: '7000', at: 11, spt: 50_000 })]).toEqual([[], []]);
  });

  // Trapped, the address's knocks on door ports are refused: they count for nothing here either.
  it('a refused knock (the address is trapped) is no wrong knock', () => {
    const send = lab();
    openDoor(send);
    expect([send({ port: '6000', at: 10 }), send({ port: '8000', at: 11 })]).toEqual([[], []]);
  });

  it('a knock sent to another address than the door\'s destination closes nothing', () => {
    const send = lab(INI.replace('close_on_wrong_knock = yes', 'close_on_wrong_knock = yes\ndestination = 192.0.2.1'));
    openDoor(send);
    expect(send({ port: '8000', at: 10, dst: '192.0.2.99' })).toEqual([]);
    expect(send({ port: '8000', at: 11 })).toEqual(['close open by wrong-knock']);
  });
});

describe('close_on_wrong_knock with an ICMP step', () => {
  const ICMP = `[open]\nsequence = 7000,icmp:100,9000\nseq_timeout = 5\nopen_for = 600\nclose_on_wrong_knock = yes\n`;

  it('closes on the ping of the step\'s length alone, not on another length or an echo reply', () => {
    const { doors, options } = config(ICMP);
    const engine = new Engine(new DoorSet(doors), options);
    const access = new Access(doors, options);
    const send = (event: ReturnType<typeof knock>): string[] => {
      const decisions = engine.handleKnock(event, access.bannedUntil(event.src, event.time));
      const out: string[] = [];
      for (const decision of decisions) {
        if (decision.type === 'completed') for (const result of access.completed(decision.src, decision.door, decision.time)) out.push(result.type);
      }
      for (const result of access.knocked(event, decisions)) out.push(result.type === 'close' ? `close by ${result.by}` : result.type);
      return out;
    };
    const ping = (at: number, len: number, icmpType = 8) => ({ ...knock({ src: A, port: 'icmp', at }), icmpType, len });
    expect([send(knock({ src: A, port: '7000', at: 0 })), send(ping(1, 100)), send(knock({ src: A, port: '9000', at: 2 }))]).toEqual([[], [], ['open']]);
    expect(send(ping(10, 200))).toEqual([]);
    expect(send(ping(11, 100, 0))).toEqual([]);
    expect(send(ping(12, 100))).toEqual(['close by wrong-knock']);
  });
});

describe('close_on_wrong_knock beside a door with tcpflags', () => {
  const INI_FLAGS = `[open]\nsequence = 7000,8000,9000\nseq_timeout = 5\nopen_for = 600\nclose_on_wrong_knock = yes\n`
    + `[synOnly]\nsequence = 8000,5000\nseq_timeout = 5\ntcpflags = syn\nopen = 443/tcp\nopen_for = 600\n`;

  // Another door refusing the knock's flags says nothing about this door, which takes any flags.
  it.each([
    { name: 'no attempt in progress', knocks: [{ port: '8000', at: 10, flags: TcpFlag.ACK }], closes: [['close open by wrong-knock']] },
    { name: 'during an attempt of the other door', knocks: [{ port: '8000', at: 10 }, { port: '8000', at: 11, flags: TcpFlag.ACK }], closes: [[], ['close open by wrong-knock']] },
  ])('a knock the other door refuses for its flags closes the grant: $name', ({ knocks, closes }) => {
    const send = lab(INI_FLAGS);
    expect([send({ port: '7000', at: 0 }), send({ port: '8000', at: 1 }), send({ port: '9000', at: 2 })]).toEqual([[], [], ['open open']]);
    expect(knocks.map((spec) => send(spec))).toEqual(closes);
  });
});
