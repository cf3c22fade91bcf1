import { createDoorKind } from '../doors/create-door-kind.js';
import { formatStep } from '../doors/format-step.js';
import type { Door, DoorStep } from './types.js';

export interface AdjacentTraps {
  door: string;
  // The trap ports the door adds, ascending.
  traps: readonly DoorStep[];
  // Neighbours left out, with the reason ("a step of [web]", "opened by [openSSH]").
  skipped: readonly { step: DoorStep; reason: string }[];
}

// trap_adjacent = yes: the ports one below and one above each step of the door (same
// protocol) are trap ports, so a scan walking up or down the port range is trapped before
// it reaches the door. A neighbour that is a step of any door, or a port any door opens, is
// left out: trapping it would trap the door's own users or shut the protected service.
// A rotating door's steps are its whole range: its neighbours are the ports just outside.
export function adjacentTraps(doors: readonly Door[]): AdjacentTraps[] {
  const stepOf = new Map<string, string>();
  for (const door of doors) for (const step of everyStep(door)) if (!stepOf.has(formatStep(step))) stepOf.set(formatStep(step), door.name);
  // A port of a rotating range is never a trap, whatever its protocol: trap ports are taken
  // out of hmac ranges, and the clients' derivation must not change with this key.
  const ranges = doors.flatMap((door) => (door.knock.kind === 'rotating' ? [{ door: door.name, ...door.knock.range }] : []));
  const openedBy = new Map<string, string>();
  for (const door of doors) for (const step of door.open) if (!openedBy.has(formatStep(step))) openedBy.set(formatStep(step), door.name);
  return doors.filter((door) => door.trapAdjacent).map((door) => {
    const traps = new Map<string, DoorStep>();
    const skipped = new Map<string, { step: DoorStep; reason: string }>();
    // An echo request's length has no neighbours a scan walks into.
    for (const step of everyStep(door).filter((each) => each.proto !== 'icmp')) {
      for (const port of [step.port - 1, step.port + 1]) {
        if (port < 1 || port > 65535) continue;
        const near: DoorStep = { port, proto: step.proto };
        const key = formatStep(near);
        const knocked = stepOf.get(key) ?? ranges.find((range) => port >= range.low && port <= range.high)?.door;
        const opened = openedBy.get(key);
        if (knocked !== undefined) {
          // The door's own steps next to each other are the common case, not worth a line.
          if (knocked !== door.name) skipped.set(key, { step: near, reason: `a step of [${knocked}]` });
        } else if (opened !== undefined) {
          skipped.set(key, { step: near, reason: `opened by [${opened}]` });
        } else {
          traps.set(key, near);
        }
      }
    }
    return { door: door.name, traps: [...traps.values()].sort(byPort), skipped: [...skipped.values()].sort((a, b) => byPort(a.step, b.step)) };
  });
}

// `trap_ports` with every door's adjacent traps added, each port once.
export function withAdjacentTraps(trapPorts: readonly DoorStep[], doors: readonly Door[]): DoorStep[] {
  const all = new Map(trapPorts.map((step) => [formatStep(step), step]));
  for (const { traps } of adjacentTraps(doors)) for (const step of traps) all.set(formatStep(step), step);
  return [...all.values()];
}

// Every step a door may expect; a rotating door's whole range, whatever it excludes, so the
// answer is the same before and after other doors' ports are taken out of it.
function everyStep(door: Door): readonly DoorStep[] {
  const knock = door.knock;
  if (knock.kind !== 'rotating') return createDoorKind(knock).steps();
  const steps: DoorStep[] = [];
  for (let port = knock.range.low; port <= knock.range.high; port++) for (const proto of knock.protocols) steps.push({ port, proto });
  return steps;
}

function byPort(a: DoorStep, b: DoorStep): number {
  return a.port - b.port || a.proto.localeCompare(b.proto);
}
