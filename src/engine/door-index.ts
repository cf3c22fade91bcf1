import type { Door, DoorStep, TcpFlagRule } from '../config/types.js';
import type { KnockDoor } from '../doors/door-set.js';
import { isEchoRequest, type Knock } from '../filters/events.js';

// One number per (protocol, port): TCP ports as is, UDP ports above 65535, echo request
// lengths (`icmp:N`) above 131071.
export const UDP_KEYS = 65536;
export const ECHO_KEYS = 131072;

export function stepKey(step: DoorStep): number {
  return step.proto === 'tcp' ? step.port : step.proto === 'udp' ? UDP_KEYS + step.port : ECHO_KEYS + step.port;
}

// Other ICMP (replies, errors, neighbour discovery) gets the key of TCP port 0, which no door
// or trap port has (ports are 1-65535).
export function knockKey(knock: Knock): number {
  if (knock.proto === 'icmp') return isEchoRequest(knock) ? ECHO_KEYS + (knock.len ?? 0) : 0;
  return knock.proto === 'udp' ? UDP_KEYS + knock.dport : knock.dport;
}

export function knockStep(knock: Knock): DoorStep {
  if (knock.proto === 'icmp') return { port: knock.len ?? 0, proto: 'icmp' };
  return { port: knock.dport, proto: knock.proto };
}

export function flagsFit(rule: TcpFlagRule | undefined, knock: Knock): boolean {
  if (rule === undefined || knock.proto !== 'tcp') return true;
  return (knock.flags & rule.required) === rule.required && (knock.flags & rule.forbidden) === 0;
}

export function destinationFits(door: Door, knock: Knock): boolean {
  return door.destination === undefined || door.destination === knock.dst;
}

// Every door port (any step a door's kind may ever expect) mapped to the doors using it:
// knocks on anything else never reach the per-source state, as knockd never sees them.
export function buildDoorIndex(doors: readonly KnockDoor[]): Map<number, KnockDoor[]> {
  const index = new Map<number, KnockDoor[]>();
  for (const entry of doors) {
    for (const step of entry.kind.steps()) {
      const list = index.get(stepKey(step)) ?? [];
      if (!list.includes(entry)) list.push(entry);
      index.set(stepKey(step), list);
    }
  }
  return index;
}
