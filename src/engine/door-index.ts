import type { Door, DoorStep, TcpFlagRule } from '../config/types.js';
import type { KnockDoor } from '../doors/door-set.js';
import type { Knock } from '../filters/events.js';

// One number per (protocol, port): TCP ports as is, UDP ports above 65535.
export function stepKey(step: DoorStep): number {
  return step.proto === 'tcp' ? step.port : 65536 + step.port;
}

// ICMP (dport 0) gets the key of TCP port 0, which no door or trap port can be (1-65535).
// ICMP gets the key of TCP port 0, which no door or trap port has (ports are 1-65535).
export function knockKey(knock: Knock): number {
  return knock.proto === 'udp' ? 65536 + knock.dport : knock.proto === 'tcp' ? knock.dport : 0;
}

export function knockStep(knock: Knock): DoorStep {
  return { port: knock.dport, proto: knock.proto === 'udp' ? 'udp' : 'tcp' };
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
