import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe as group, expect, it } from 'vitest';
import { TcpFlag } from '../../src/filters/events.js';
import { engineOf, knock, type KnockSpec, ONE_DOOR, run, SYN_DOOR } from '../helpers/engine.js';

const A = '203.0.113.7';
const B = '198.51.100.23';

const TWO_DOORS = `
[first]
sequence = 7000,8000
seq_timeout = 5
[second]
sequence = 7000,9000
seq_timeout = 5
`;

const OPEN_CLOSE = `
[open]
sequence = 7000,8000,9000
seq_timeout = 5
[close]
sequence = 9000,8000,7000
seq_timeout = 5
closes = open
`;

const ok = (src = A, door = 'open') => `completed ${door} ${src}`;
const broken = (reason: string, src = A, door = 'open') => `broken ${door} ${src} ${reason}`;

type Row = [string, string, KnockSpec[], string[]];

group('engine: knockd semantics', () => {
  it.each<Row>([
    // the plain case
    ['a correct sequence completes', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '8000', at: 1 }, { port: '9000/udp', at: 2 }], [ok()]],
    ['the protocol of a step counts (9000/tcp is not 9000/udp)', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '8000', at: 1 }, { port: '9000', at: 2 }], []],
    // a wrong door port breaks the attempt, and does not start a new one
    ['a knock on another door port breaks the attempt', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '9000/udp', at: 1 }, { port: '8000', at: 2 }], [broken('wrong-port')]],
    ['7000,7000,8000,9000 fails: the breaking knock starts nothing', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '7000', at: 0.5 }, { port: '8000', at: 1 }, { port: '9000/udp', at: 2 }], [broken('wrong-port')]],
    // ports that belong to no door are never seen
    ['a knock on an unrelated port is ignored', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '1234', at: 0.5 }, { port: '22', at: 0.7 }, { port: '8000', at: 1 }, { port: '9000/udp', at: 2 }], [ok()]],
    // tcpflags
    ['a TCP knock whose flags do not fit is ignored, not breaking', SYN_DOOR,
      [{ port: '7000', at: 0 }, { port: '8000', at: 0.5, flags: TcpFlag.SYN | TcpFlag.ACK }, { port: '8000', at: 1 }, { port: '9000', at: 2 }], [ok()]],
    ['a first knock whose flags do not fit starts nothing', SYN_DOOR,
      [{ port: '7000', at: 0, flags: TcpFlag.ACK }, { port: '8000', at: 1 }, { port: '9000', at: 2 }], []],
    ['a knock on a wrong door port with wrong flags is ignored too', SYN_DOOR,
      [{ port: '7000', at: 0 }, { port: '9000', at: 0.5, flags: TcpFlag.RST }, { port: '8000', at: 1 }, { port: '9000', at: 2 }], [ok()]],
    // timeout measured from the first knock, with the log's sub-second time
    ['a sequence longer than seq_timeout fails', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '8000', at: 3 }, { port: '9000/udp', at: 5.5 }], [broken('timeout')]],
    ['the timeout runs from the first knock, not the last', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '8000', at: 4 }, { port: '9000/udp', at: 5.01 }], [broken('timeout')]],
    ['4.45 s within a 5 s timeout completes (no truncation to whole seconds)', ONE_DOOR,
      [{ port: '7000', at: 10.9 }, { port: '8000', at: 12 }, { port: '9000/udp', at: 15.35 }], [ok()]],
    // doors sharing a first step run in parallel
    ['doors sharing a first port run in parallel', TWO_DOORS,
      [{ port: '7000', at: 0 }, { port: '9000', at: 1 }], [broken('wrong-port', A, 'first'), ok(A, 'second')]],
    ['both doors can complete from their shared start', TWO_DOORS,
      [{ port: '7000', at: 0 }, { port: '8000', at: 1 }], [ok(A, 'first'), broken('wrong-port', A, 'second')]],
    // per source address
    ['two sources knocking interleaved both complete', ONE_DOOR,
      [{ port: '7000', at: 0 }, { src: B, port: '7000', at: 0.1 }, { port: '8000', at: 0.2 }, { src: B, port: '8000', at: 0.3 },
        { src: B, port: '9000/udp', at: 0.4 }, { port: '9000/udp', at: 0.5 }], [ok(B), ok(A)]],
    ["one source's timeout does not drop another's attempt", ONE_DOOR,
      [{ src: B, port: '7000', at: 0 }, { port: '7000', at: 4 }, { src: B, port: '8000', at: 6 }, { port: '8000', at: 7 }, { port: '9000/udp', at: 8 }],
      [broken('timeout', B), ok()]],
    // the close door
    ['the close sequence starts once the open attempt has ended', OPEN_CLOSE,
      [{ port: '7000', at: 0 }, { port: '8000', at: 1 }, { port: '9000', at: 2 }, { port: '9000', at: 10 }, { port: '8000', at: 11 }, { port: '7000', at: 12 }],
      [ok(), ok(A, 'close')]],
  ])('%s', (_name, ini, knocks, expected) => {
    expect(run(ini, knocks)).toEqual(expected);
  });
});

group('engine: beyond knockd', () => {
  it.each<Row>([
    // a retransmitted SYN is one knock
    ['a SYN retransmitted from the same source port is one knock', ONE_DOOR,
      [{ port: '7000', at: 0, spt: 5000 }, { port: '7000', at: 1, spt: 5000 }, { port: '8000', at: 1.5 }, { port: '9000/udp', at: 2 }], [ok()]],
    ['a retransmission of the last knock does not start the close door', OPEN_CLOSE,
      [{ port: '7000', at: 0 }, { port: '8000', at: 1 }, { port: '9000', at: 2, spt: 6000 }, { port: '9000', at: 3, spt: 6000 },
        { port: '8000', at: 3.5 }, { port: '7000', at: 4 }], [ok()]],
    ['the same port from another source port is a second knock', ONE_DOOR,
      [{ port: '7000', at: 0, spt: 5000 }, { port: '7000', at: 1, spt: 5001 }, { port: '8000', at: 1.5 }, { port: '9000/udp', at: 2 }],
      [broken('wrong-port')]],
    ['a SYN repeated after the window is a second knock', ONE_DOOR.replace('[open]', '[options]\nretransmit_window = 2\n[open]'),
      [{ port: '7000', at: 0, spt: 5000 }, { port: '7000', at: 3, spt: 5000 }], [broken('wrong-port')]],
    // order = any
    ['order = any accepts the steps in any order', `${ONE_DOOR}order = any\n`,
      [{ port: '9000/udp', at: 0 }, { port: '7000', at: 0.2 }, { port: '8000', at: 0.4 }], [ok()]],
    ['order = any still breaks on a repeated step', `${ONE_DOOR}order = any\n`,
      [{ port: '9000/udp', at: 0 }, { port: '9000/udp', at: 0.2 }, { port: '8000', at: 0.4 }, { port: '7000', at: 0.5 }], [broken('wrong-port')]],
    ['order = sequence (the default) refuses another order', ONE_DOOR,
      [{ port: '9000/udp', at: 0 }, { port: '7000', at: 0.2 }, { port: '8000', at: 0.4 }], []],
    // destination
    ['destination: knocks to another local address do not count', `${ONE_DOOR}destination = 192.0.2.1\n`,
      [{ port: '7000', at: 0, dst: '192.0.2.99' }, { port: '8000', at: 1, dst: '192.0.2.99' }, { port: '9000/udp', at: 2, dst: '192.0.2.99' }], []],
    ['destination: knocks to the address count', `${ONE_DOOR}destination = 192.0.2.1\n`,
      [{ port: '7000', at: 0 }, { port: '8000', at: 1 }, { port: '9000/udp', at: 2 }], [ok()]],
    // strict and trap ports
    ['strict: any other logged packet breaks the attempt', `${ONE_DOOR}strict = yes\n`,
      [{ port: '7000', at: 0 }, { port: '1234', at: 0.5 }, { port: '8000', at: 1 }, { port: '9000/udp', at: 2 }], [broken('strict')]],
    ['strict: an ICMP packet breaks it too', `${ONE_DOOR}strict = yes\n`,
      [{ port: '7000', at: 0 }, { port: 'icmp', at: 0.5 }, { port: '8000', at: 1 }], [broken('strict')]],
    ['a trap port breaks the attempt and refuses the source', `[options]\ntrap_ports = 7500\ntrap_for = 60\n${ONE_DOOR}`,
      [{ port: '7000', at: 0 }, { port: '7500', at: 0.5 }, { port: '7000', at: 1 }, { port: '8000', at: 2 }, { port: '9000/udp', at: 3 }],
      ['broken open 203.0.113.7 trap', 'trapped 203.0.113.7', 'refused 203.0.113.7 trapped', 'refused 203.0.113.7 trapped', 'refused 203.0.113.7 trapped']],
    ['a trapped source may knock again after trap_for', `[options]\ntrap_ports = 7500\ntrap_for = 60\n${ONE_DOOR}`,
      [{ port: '7500', at: 0 }, { port: '7000', at: 61 }, { port: '8000', at: 62 }, { port: '9000/udp', at: 63 }], ['trapped 203.0.113.7', ok()]],
    ['a whitelisted source is never trapped', `[options]\nwhitelist = 203.0.113.0/24\ntrap_ports = 7500\n${ONE_DOOR}`,
      [{ port: '7000', at: 0 }, { port: '7500', at: 0.5 }, { port: '8000', at: 1 }, { port: '9000/udp', at: 2 }], [ok()]],
    // the cap on tracked sources (max_first_steps = 0: first steps count against max_tracked too)
    ['past max_tracked the oldest source is evicted', `[options]\nmax_tracked = 2\nmax_first_steps = 0\n${ONE_DOOR}`,
      [{ port: '7000', at: 0 }, { src: B, port: '7000', at: 0.1 }, { src: '198.51.100.99', port: '7000', at: 0.2 },
        { port: '8000', at: 0.3 }, { port: '9000/udp', at: 0.4 }], [broken('evicted')]],
  ])('%s', (_name, ini, knocks, expected) => {
    expect(run(ini, knocks)).toEqual(expected);
  });

  it('moves a source that starts knocking again to the young end, so another, older one is evicted', () => {
    const engine = engineOf(`[options]\nmax_tracked = 2\nmax_first_steps = 0\n${ONE_DOOR}`);
    const evicted = (spec: KnockSpec) => engine.handleKnock(knock(spec)).filter((d) => d.type === 'broken' && d.reason === 'evicted').map((d) => d.src);
    expect(evicted({ src: A, port: '7000', at: 0 })).toEqual([]);
    expect(evicted({ src: B, port: '7000', at: 0.1 })).toEqual([]);
    // A breaks its attempt (still tracked, with none in progress), then starts again: now the youngest.
    expect(evicted({ src: A, port: '9000/udp', at: 0.2 })).toEqual([]);
    expect(evicted({ src: A, port: '7000', at: 0.3 })).toEqual([]);
    expect(evicted({ src: '198.51.100.99', port: '7000', at: 0.4 })).toEqual([B]);
    expect(engine.attemptsByDoor()).toEqual(new Map([['open', [A, '198.51.100.99']]]));
  });

  it('refuses the knocks of a banned source and starts nothing for it', () => {
    const engine = engineOf(ONE_DOOR);
    const until = 60_000;
    expect(engine.handleKnock(knock({ port: '7000', at: 0 }), until)).toEqual([{ type: 'refused', time: 0, src: A, until, reason: 'banned' }]);
    expect(engine.handleKnock(knock({ port: '8000', at: 1 }), until)).toEqual([{ type: 'refused', time: 1000, src: A, until, reason: 'banned' }]);
    // a port no door uses is not even refused
    expect(engine.handleKnock(knock({ port: '1234', at: 1.5 }), until)).toEqual([]);
    expect(engine.trackedSources).toBe(0);
    // once the ban is over, nothing was started: 9000/udp alone completes nothing
    expect(engine.handleKnock(knock({ port: '9000/udp', at: 2 })).map((d) => d.type)).toEqual([]);
  });

  it('drops a source\'s attempts in progress when told to forget it (a ban)', () => {
    const engine = engineOf(ONE_DOOR);
    engine.handleKnock(knock({ port: '7000', at: 0 }));
    engine.forget(A);
    expect(engine.trackedSources).toBe(0);
    expect(engine.handleKnock(knock({ port: '8000', at: 1 })).map((d) => d.type)).toEqual([]);
  });

  it('drops the attempts of a source past its first step when told to forget it', () => {
    const engine = engineOf(ONE_DOOR);
    engine.handleKnock(knock({ port: '7000', at: 0 }));
    engine.handleKnock(knock({ port: '8000', at: 1 }));
    engine.forget(A);
    expect(engine.trackedSources).toBe(0);
    expect(engine.handleKnock(knock({ port: '9000/udp', at: 2 })).map((d) => d.type)).toEqual([]);
  });

  it('never holds more sources than max_tracked under a spoofed flood', () => {
    const engine = engineOf(`[options]\nmax_tracked = 100\nmax_first_steps = 0\n${ONE_DOOR}`);
    for (let i = 0; i < 5000; i++) {
      engine.handleKnock(knock({ src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: '7000', at: i / 1000 }));
    }
    expect(engine.trackedSources).toBe(100);
  });

  it('forgets sources after their attempts time out', () => {
    const engine = engineOf(ONE_DOOR);
    engine.handleKnock(knock({ port: '7000', at: 0 }));
    expect(engine.trackedSources).toBe(1);
    const decisions = engine.cleanup(60_000);
    expect(decisions.map((decision) => decision.type)).toEqual(['broken']);
    expect(engine.trackedSources).toBe(0);
  });

  it('one-time sequences are used once each, in order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-onetime-'));
    writeFileSync(join(dir, 'seqs'), '# one per line\n7000,8000\n7100,8100\n');
    const engine = engineOf(`[once]\none_time_sequences = ${join(dir, 'seqs')}\nseq_timeout = 5\n`);
    const types = (spec: { port: string; at: number }) => engine.handleKnock(knock(spec)).map((decision) => decision.type);
    types({ port: '7000', at: 0 });
    expect(types({ port: '8000', at: 1 })).toContain('completed');
    types({ port: '7000', at: 10 });
    expect(types({ port: '8000', at: 11 })).not.toContain('completed');
    types({ port: '7100', at: 20 });
    expect(types({ port: '8100', at: 21 })).toContain('completed');
    rmSync(dir, { recursive: true });
  });
});

group('engine: one-time sequences knocked by two sources at once', () => {
  it('opens only for the source that completes first; the other (a replay) opens nothing and the next sequence stays unused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-onetime-race-'));
    writeFileSync(join(dir, 'seqs'), '7000,8000\n7100,8100\n');
    const ini = `[once]\none_time_sequences = ${join(dir, 'seqs')}\nseq_timeout = 5\n`;
    const owner = '203.0.113.7';
    const replay = '198.51.100.9';
    expect(run(ini, [
      { src: owner, port: '7000', at: 0 },
      { src: replay, port: '7000', at: 0.5 },
      { src: owner, port: '8000', at: 1 },
      { src: replay, port: '8000', at: 1.5 },
      // The owner's next sequence still opens.
      { src: owner, port: '7100', at: 10 },
      { src: owner, port: '8100', at: 11 },
    ])).toEqual([`completed once ${owner}`, `broken once ${replay} used`, `completed once ${owner}`]);
    rmSync(dir, { recursive: true });
  });
});

group('engine: why an attempt broke, as data', () => {
  const TCP = (port: number) => ({ port, proto: 'tcp' });
  const UDP = (port: number) => ({ port, proto: 'udp' });
  it.each<[string, string, KnockSpec[], object]>([
    ['wrong-port, order = sequence: the step that was due', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '9000/udp', at: 1 }], { reason: 'wrong-port', got: UDP(9000), step: 2, expected: TCP(8000) }],
    ['wrong-port, order = any: the steps still missing', `${ONE_DOOR}order = any\n`,
      [{ port: '8000', at: 0 }, { port: '8000', at: 1 }], { reason: 'wrong-port', got: TCP(8000), missing: [TCP(7000), UDP(9000)] }],
    ['timeout: how many steps of how many within seq_timeout', ONE_DOOR,
      [{ port: '7000', at: 0 }, { port: '8000', at: 1 }, { port: '7000', at: 6 }], { reason: 'timeout', got: 2, of: 3, within: 5000 }],
    ['timeout, order = any: how many steps were knocked', `${ONE_DOOR}order = any\n`,
      [{ port: '8000', at: 0 }, { port: '7000', at: 1 }, { port: '7000', at: 6 }], { reason: 'timeout', got: 2, of: 3, within: 5000 }],
    ['strict: the other packet', `${ONE_DOOR}strict = yes\n`,
      [{ port: '7000', at: 0 }, { port: 'icmp', at: 1 }], { reason: 'strict', got: 'icmp' }],
    ['strict: the other port', `${ONE_DOOR}strict = yes\n`,
      [{ port: '7000', at: 0 }, { port: '1234', at: 1 }], { reason: 'strict', got: TCP(1234) }],
    ['trap: the trap port', `[options]\ntrap_ports = 7500\n${ONE_DOOR}`,
      [{ port: '7000', at: 0 }, { port: '7500', at: 1 }], { reason: 'trap', port: TCP(7500) }],
    ['evicted: the cap', `[options]\nmax_tracked = 1\nmax_first_steps = 0\n${ONE_DOOR}`,
      [{ port: '7000', at: 0 }, { src: B, port: '7000', at: 1 }], { reason: 'evicted', cap: 1 }],
  ])('%s', (_name, ini, knocks, why) => {
    const engine = engineOf(ini);
    const broken = knocks.flatMap((spec) => engine.handleKnock(knock(spec))).filter((d) => d.type === 'broken');
    expect(broken).toEqual([expect.objectContaining({ type: 'broken', src: A, door: 'open', ...why })]);
  });
});
