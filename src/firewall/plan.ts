import type { Config, DoorStep, LogLimit } from '../config/types.js';
import { DEFAULT_LOG_PREFIX } from '../config/defaults.js';
import { createDoorKind } from '../doors/create-door-kind.js';
import type { Network } from '../net/address.js';

export interface DoorGate {
  door: string;
  index: number;
  ports: readonly DoorStep[];
}

// What a managed backend owns, derived from the config alone.
export interface FirewallPlan {
  logPrefix: string;
  // Per source address on the knock LOG rules; undefined: every packet is logged.
  logLimit: LogLimit | undefined;
  // Every port a knock may use (door steps and trap ports): LOG and DROP.
  knockPorts: readonly { step: DoorStep; doors: readonly string[] }[];
  // Doors that open something, with their ports.
  gates: readonly DoorGate[];
  // Union of the protected ports.
  protectedPorts: readonly DoorStep[];
  whitelist4: readonly Network[];
  whitelist6: readonly Network[];
  // Only the knock LOG rules (firewall = command: knockd's commands own the rest).
  logOnly: boolean;
}

export interface PlanOptions {
  logOnly?: boolean;
}

export function buildFirewallPlan(config: Config, options: PlanOptions = {}): FirewallPlan {
  const logOnly = options.logOnly === true;
  const knock = new Map<string, { step: DoorStep; doors: string[] }>();
  const addKnock = (step: DoorStep, door: string): void => {
    const key = `${step.proto}/${step.port}`;
    const entry = knock.get(key) ?? { step, doors: [] };
    if (!entry.doors.includes(door)) entry.doors.push(door);
    knock.set(key, entry);
  };
  for (const door of config.doors) {
    for (const step of createDoorKind(door.knock).steps()) addKnock(step, door.name);
  }
  for (const step of config.options.trapPorts) addKnock(step, 'trap');
  const gates = logOnly ? [] : config.doors
    .map((door, index) => ({ door: door.name, index, ports: door.open }))
    .filter((gate) => gate.ports.length > 0);
  const protectedPorts = new Map<string, DoorStep>();
  for (const gate of gates) for (const step of gate.ports) protectedPorts.set(`${step.proto}/${step.port}`, step);
  return {
    logPrefix: config.options.logPrefix ?? DEFAULT_LOG_PREFIX,
    logLimit: config.options.logLimit,
    knockPorts: [...knock.values()].sort((a, b) => a.step.port - b.step.port || a.step.proto.localeCompare(b.step.proto)),
    gates,
    protectedPorts: [...protectedPorts.values()],
    whitelist4: logOnly ? [] : config.options.whitelist.filter((network) => network.family === 4),
    whitelist6: logOnly ? [] : config.options.whitelist.filter((network) => network.family === 6),
    logOnly,
  };
}
