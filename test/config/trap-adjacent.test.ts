import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { adjacentTraps } from '../../src/config/trap-adjacent.js';
import { formatStep } from '../../src/doors/format-step.js';
import { config, run } from '../helpers/engine.js';

const INI = `[options]
trap_ports = 1234
[openSSH]
sequence = 7000,7001,8000:udp
seq_timeout = 5
trap_adjacent = yes
[web]
sequence = 8002,6999
open = 443/tcp
[ssh2]
sequence = 5000
open = 7999/udp
`;

function traps(ini: string): string[] {
  return config(ini).options.trapPorts.map(formatStep);
}

describe('trap_adjacent', () => {
  it('adds the ports next to every step, same protocol, to trap_ports', () => {
    expect(traps(INI)).toEqual(['1234/tcp', '7002/tcp', '8001/udp']);
  });

  it('leaves out a neighbour that is a step of another door or a port a door opens, and says why', () => {
    expect(adjacentTraps(config(INI).doors)).toEqual([{
      door: 'openSSH',
      traps: [{ port: 7002, proto: 'tcp' }, { port: 8001, proto: 'udp' }],
      skipped: [{ step: { port: 6999, proto: 'tcp' }, reason: 'a step of [web]' }, { step: { port: 7999, proto: 'udp' }, reason: 'opened by [ssh2]' }],
    }]);
  });

  it('adds nothing when off, and a port that is already a trap port once', () => {
    expect(traps(INI.replace('trap_adjacent = yes', 'trap_adjacent = no'))).toEqual(['1234/tcp']);
    expect(traps(INI.replace('trap_ports = 1234', 'trap_ports = 7002'))).toEqual(['7002/tcp', '8001/udp']);
  });

  it('never goes past the ends of the port range', () => {
    expect(traps('[edge]\nsequence = 1,65535\ntrap_adjacent = yes\n')).toEqual(['2/tcp', '65534/tcp']);
  });

  it('of a rotating door are the ports just outside its range, and no port inside another door\'s range', () => {
    const ini = `[rot]\nsecret_file = /s\nport_range = 10000-10999\nlength = 5\nrotate = 1h\ntrap_adjacent = yes\n[near]\nsequence = 9000,11000\ntrap_adjacent = yes\n`;
    const loaded = parseConfig(ini, 'test.ini', undefined, undefined, () => Buffer.from('secret'));
    expect(loaded.options.trapPorts.map(formatStep)).toEqual(['9999/tcp', '8999/tcp', '9001/tcp', '11001/tcp']);
    expect(adjacentTraps(loaded.doors).map((entry) => entry.skipped)).toEqual([
      [{ step: { port: 11000, proto: 'tcp' }, reason: 'a step of [near]' }],
      [{ step: { port: 10999, proto: 'tcp' }, reason: 'a step of [rot]' }],
    ]);
  });

  it('leaves out a neighbour in a rotating door\'s range whatever its protocol', () => {
    const ini = `[rot]\nsecret_file = /s\nport_range = 10000-10999\nrotate = 1h\n[near]\nsequence = 11000:udp\ntrap_adjacent = yes\n`;
    const loaded = parseConfig(ini, 'test.ini', undefined, undefined, () => Buffer.from('secret'));
    expect(adjacentTraps(loaded.doors)).toEqual([{
      door: 'near', traps: [{ port: 11001, proto: 'udp' }], skipped: [{ step: { port: 10999, proto: 'udp' }, reason: 'a step of [rot]' }],
    }]);
  });

  it('gives an echo request step no neighbours, and names the first door a shared step belongs to', () => {
    const ini = '[ping]\nsequence = icmp:100,7000\ntrap_adjacent = yes\n[a]\nsequence = 7001,5000\n[b]\nsequence = 7001,6000\n';
    expect(adjacentTraps(config(ini).doors)).toEqual([{
      door: 'ping', traps: [{ port: 6999, proto: 'tcp' }], skipped: [{ step: { port: 7001, proto: 'tcp' }, reason: 'a step of [a]' }],
    }]);
  });

  it('traps a sequential scan as it walks into the door\'s ports, while the door still opens', () => {
    const ini = '[openSSH]\nsequence = 7000,7100,7200\nseq_timeout = 5\ntrap_adjacent = yes\n';
    const scan = Array.from({ length: 5 }, (_, i) => ({ src: '198.51.100.9', port: String(6997 + i), at: i * 0.01 }));
    // 6999 traps it: its knock on 7000 right after is refused and starts nothing
    expect(run(ini, scan)).toEqual(['trapped 198.51.100.9', 'refused 198.51.100.9 trapped']);
    expect(run(ini, [{ port: '7000', at: 0 }, { port: '7100', at: 1 }, { port: '7200', at: 2 }])).toEqual(['completed openSSH 203.0.113.7']);
    // without it the scan is never trapped
    expect(run(ini.replace('trap_adjacent = yes', ''), scan)).toEqual([]);
  });
});
