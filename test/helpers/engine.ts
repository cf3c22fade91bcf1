import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import type { Decision } from '../../src/engine/decisions.js';
import { DoorSet } from '../../src/doors/door-set.js';
import { Engine } from '../../src/engine/engine.js';
import { TcpFlag, type Knock } from '../../src/filters/events.js';

export function config(ini: string): Config {
  return parseConfig(ini, 'test.ini');
}

export function engineOf(ini: string): Engine {
  const { doors, options } = config(ini);
  return new Engine(new DoorSet(doors), options);
}

export interface KnockSpec {
  src?: string;
  // "7000", "9000/udp", "icmp"
  port: string;
  // seconds from 0
  at: number;
  spt?: number;
  flags?: number;
  dst?: string;
}

let nextPort = 40000;

export function knock(spec: KnockSpec): Knock {
  const [portText = '0', protoText = 'tcp'] = spec.port.split('/');
  const proto = spec.port === 'icmp' ? 'icmp' : (protoText as 'tcp' | 'udp');
  return {
    type: 'knock',
    time: spec.at * 1000,
    prefix: 'KNOCK',
    src: spec.src ?? '203.0.113.7',
    dst: spec.dst ?? '192.0.2.1',
    proto,
    dport: proto === 'icmp' ? 0 : Number(portText),
    spt: spec.spt ?? nextPort++,
    flags: proto === 'tcp' ? (spec.flags ?? TcpFlag.SYN) : 0,
    iface: 'eth0',
  };
}

// Runs knocks through a fresh engine; returns the decisions as short strings
// ("completed open 203.0.113.7", "broken open 203.0.113.7 wrong-port"), steps left out.
export function run(ini: string, knocks: readonly KnockSpec[], keep: readonly Decision['type'][] = ['completed', 'broken', 'refused', 'trapped']): string[] {
  const engine = engineOf(ini);
  const out: string[] = [];
  for (const spec of knocks) {
    for (const decision of engine.handleKnock(knock(spec))) {
      if (keep.includes(decision.type)) out.push(describe(decision));
    }
  }
  return out;
}

export function describe(decision: Decision): string {
  const door = 'door' in decision ? ` ${decision.door}` : '';
  const reason = decision.type === 'broken' ? ` ${decision.reason}` : decision.type === 'refused' ? ` ${decision.reason}` : '';
  return `${decision.type}${door} ${decision.src}${reason}`;
}

// Doors the engine tests share: three steps (the last UDP), and three TCP steps that must be SYNs.
export const ONE_DOOR = `
[open]
sequence = 7000,8000,9000:udp
seq_timeout = 5
`;

export const SYN_DOOR = `
[open]
sequence = 7000,8000,9000
seq_timeout = 5
tcpflags = syn,!ack
`;
