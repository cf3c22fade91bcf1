import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe as group, expect, it } from 'vitest';
import { TcpFlag } from '../../src/filters/events.js';
import { engineOf, knock, type KnockSpec, ONE_DOOR, run, SYN_DOOR } from '../helpers/engine.js';

const A = '203.0.113.7';

const TRAP = `[options]\ntrap_ports = 7500\ntrap_for = 60\n${ONE_DOOR}`;

const ok = (door = 'open') => `completed ${door} ${A}`;
const broken = (reason: string, door = 'open') => `broken ${door} ${A} ${reason}`;

const dir = mkdtempSync(join(tmpdir(), 'kw-engine-edges-'));
afterAll(() => rmSync(dir, { recursive: true }));
const oneTimeFile = join(dir, 'seqs');
writeFileSync(oneTimeFile, '7000,8000\n7100,8100\n');

group('engine: edges of the knock semantics', () => {
  it.each<[string, string, KnockSpec[], string[]]>([
    // boundaries of time windows: the end of each window still counts
    ['a sequence completed exactly at seq_timeout completes', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '8000', at: 1 }, { port: '9000/udp', at: 5 }], [ok()]],
    ['a SYN again exactly at the end of retransmit_window is still one knock', `[options]\nretransmit_window = 2\n${ONE_DOOR}`,
      [{ port: '7000', at: 10, spt: 5000 }, { port: '7000', at: 12, spt: 5000 }, { port: '8000', at: 12.5 }, { port: '9000/udp', at: 13 }], [ok()]],
    ['a trapped source may knock again exactly when trap_for ends', TRAP,
      [{ port: '7500', at: 0 }, { port: '7000', at: 60 }, { port: '8000', at: 61 }, { port: '9000/udp', at: 62 }], [`trapped ${A}`, ok()]],
    ['a trapped source knocking on a port no door uses is not even refused', TRAP,
      [{ port: '7500', at: 0 }, { port: '1234', at: 1 }], [`trapped ${A}`]],
    // only a plain TCP SYN can be a retransmission
    ['an ACK from the same source port is a second knock, not a retransmission', ONE_DOOR,
      [{ port: '7000', at: 0, spt: 5000 }, { port: '7000', at: 0.5, spt: 5000, flags: TcpFlag.ACK }, { port: '8000', at: 1 }, { port: '9000/udp', at: 2 }],
      [broken('wrong-port')]],
    ['a SYN after an ACK from the same source port is a second knock', ONE_DOOR,
      [{ port: '7000', at: 0, spt: 5000, flags: TcpFlag.ACK }, { port: '7000', at: 0.5, spt: 5000 }, { port: '8000', at: 1 }, { port: '9000/udp', at: 2 }],
      [broken('wrong-port')]],
    ['a datagram repeated from the same source port is a second knock', '[open]\nsequence = 9000:udp,8000\n',
      [{ port: '9000/udp', at: 0, spt: 5000 }, { port: '9000/udp', at: 0.5, spt: 5000 }, { port: '8000', at: 1 }], [broken('wrong-port')]],
    // protocols
    ['an ICMP packet is no knock on TCP port 1', '[open]\nsequence = 1,8000\n',
      [{ port: 'icmp', at: 0 }, { port: '8000', at: 1 }], []],
    ['tcpflags do not apply to a UDP first step', '[open]\nsequence = 9000:udp,7000\ntcpflags = syn\n',
      [{ port: '9000/udp', at: 0 }, { port: '7000', at: 1 }], [ok()]],
    ['tcpflags do not apply to a UDP later step', '[open]\nsequence = 7000,9000:udp\ntcpflags = syn\n',
      [{ port: '7000', at: 0 }, { port: '9000/udp', at: 1 }], [ok()]],
    // ports no door uses
    ['a source with no attempt in progress knocking on a port no door uses starts nothing', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '9000/udp', at: 1 }, { port: '1234', at: 2 }, { port: '7000', at: 3 }, { port: '8000', at: 4 }, { port: '9000/udp', at: 5 }],
      [broken('wrong-port'), ok()]],
    // destination
    ['destination: a knock to another address starts no attempt', `${ONE_DOOR}destination = 192.0.2.1\n`,
      [{ port: '7000', at: 0, dst: '192.0.2.99' }, { port: '7000', at: 1 }, { port: '8000', at: 2 }, { port: '9000/udp', at: 3 }], [ok()]],
    ['destination: a port of another door, knocked to that door\'s address, breaks the attempt',
      '[here]\nsequence = 7000,8000\ndestination = 192.0.2.1\n[there]\nsequence = 9000,8000\ndestination = 192.0.2.2\n',
      [{ port: '7000', at: 0 }, { port: '8000', at: 1, dst: '192.0.2.2' }, { port: '8000', at: 2 }], [broken('wrong-port', 'here')]],
    // a strict door next to a plain one
    ['strict: another packet breaks the strict door\'s attempt and leaves the plain door\'s',
      '[strict]\nsequence = 7000,8000\nstrict = yes\n[plain]\nsequence = 7000,9000\n',
      [{ port: '7000', at: 0 }, { port: '1234', at: 0.5 }, { port: '9000', at: 1 }], [broken('strict', 'strict'), ok('plain')]],
    // a strict door with tcpflags: another packet breaks it, whatever its flags
    ['strict with tcpflags: a packet elsewhere whose flags do not fit still breaks the attempt',
      '[strict]\nsequence = 7000,8000\nstrict = yes\ntcpflags = syn,!ack\n',
      [{ port: '7000', at: 0 }, { port: '1234', at: 0.5, flags: TcpFlag.ACK }, { port: '8000', at: 1 }], [broken('strict', 'strict')]],
    // one-time sequences with order = any: only the current line's ports start it
    ['order = any with one-time sequences: a step of a later line starts nothing', `[open]\none_time_sequences = ${oneTimeFile}\norder = any\n`,
      [{ port: '7100', at: 0 }, { port: '8100', at: 1 }, { port: '8000', at: 2 }, { port: '7000', at: 3 }], [ok()]],
  ])('%s', (_name, ini, knocks, expected) => {
    expect(run(ini, knocks)).toEqual(expected);
  });
});

group('engine: what a single knock decides', () => {
  const decide = (ini: string, knocks: KnockSpec[]) => {
    const engine = engineOf(ini);
    return knocks.map((spec) => engine.handleKnock(knock(spec)));
  };
  const TCP = (port: number) => ({ port, proto: 'tcp' });

  it('says nothing about a knock on a port no door uses from a source it never saw', () => {
    expect(decide(ONE_DOOR, [{ port: '1234', at: 0 }])).toEqual([[]]);
  });

  it('reports a retransmitted SYN with its port and source port', () => {
    expect(decide(ONE_DOOR, [{ port: '7000', at: 0, spt: 5000 }, { port: '7000', at: 1, spt: 5000 }])[1])
      .toEqual([{ type: 'retransmit', time: 1000, src: A, knock: TCP(7000), spt: 5000 }]);
  });

  it('reports a knock whose flags do not fit with the flags it had and the rule', () => {
    const [, withAck, withNone] = decide(SYN_DOOR, [{ port: '7000', at: 0 }, { port: '8000', at: 0.5, flags: TcpFlag.SYN | TcpFlag.ACK }, { port: '8000', at: 0.7, flags: 0 }]);
    expect(withAck).toEqual([{ type: 'flags', time: 500, src: A, door: 'open', knock: TCP(8000), flags: 'SYN,ACK', expected: 'syn,!ack' }]);
    expect(withNone).toEqual([{ type: 'flags', time: 700, src: A, door: 'open', knock: TCP(8000), flags: 'none', expected: 'syn,!ack' }]);
  });

  it('says nothing about wrong flags on a port that is not the first step of a door', () => {
    expect(decide(SYN_DOOR, [{ port: '8000', at: 0, flags: TcpFlag.ACK }])).toEqual([[]]);
  });

  it('says nothing about wrong flags on a port no door uses during an attempt', () => {
    expect(decide(SYN_DOOR, [{ port: '7000', at: 0 }, { port: '1234', at: 0.5, flags: TcpFlag.ACK }])[1]).toEqual([]);
  });

  it('starts one attempt for a door that uses its first port again later', () => {
    expect(decide('[open]\nsequence = 7000,8000,7000\n', [{ port: '7000', at: 0 }])).toEqual([
      [{ type: 'step', time: 0, src: A, door: 'open', step: 1, of: 3, knock: TCP(7000) }],
    ]);
  });
});

group('engine: the pre-filter (relevantKeys)', () => {
  it('is the door ports and trap ports, one key per protocol and port', () => {
    // TCP ports as is, UDP ports above 65535
    expect(engineOf(`[options]\ntrap_ports = 7500\n${ONE_DOOR}`).relevantKeys()).toEqual(new Set([7000, 8000, 65536 + 9000, 7500]));
  });

  it('is none when a single door of several is strict: that door wants every packet', () => {
    expect(engineOf(`[plain]\nsequence = 7000\n[strict]\nsequence = 8000\nstrict = yes\n`).relevantKeys()).toBeUndefined();
  });
});
