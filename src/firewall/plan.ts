import type { Config, DoorStep, LogLimit } from '../config/types.js';
import { DEFAULT_LOG_PREFIX } from '../config/defaults.js';
import { createDoorKind } from '../doors/create-door-kind.js';
import { RotatingKind } from '../doors/rotating.js';
import { outermostNetworks, type Network } from '../net/address.js';

export interface KnockPort {
  step: DoorStep;
  doors: readonly string[];
}

// Whether a family can carry an echo request whose IP packet is `length` bytes long: one is
// at least 28 bytes in IPv4 (20 of header, 8 of ICMP), 48 in IPv6 (40 of header, 8 of ICMPv6).
export function echoFits(length: number, family: 4 | 6): boolean {
  return length >= (family === 4 ? 28 : 48);
}

// The IP packet lengths of a plan's `icmp:N` steps a family can carry.
export function echoLengths(plan: FirewallPlan, family: 4 | 6): number[] {
  return plan.knockPorts.filter((entry) => entry.step.proto === 'icmp' && echoFits(entry.step.port, family)).map((entry) => entry.step.port);
}

// A door whose knock ports change with the time window (a rotating door not bound to the
// source): only the ports its accepted windows use are logged, never its whole range.
export interface TurningDoor {
  door: string;
  stepsAt(now: number): readonly DoorStep[];
  // When stepsAt() gives something else next (ms).
  nextTurn(now: number): number;
}

export interface DoorGate {
  door: string;
  index: number;
  ports: readonly DoorStep[];
  // max_connections: new connections one granted address may have open per port; undefined: no limit.
  maxConnections: number | undefined;
}

// What a managed backend owns, derived from the config alone.
export interface FirewallPlan {
  logPrefix: string;
  // Per source address on the knock LOG rules; undefined: every packet is logged.
  logLimit: LogLimit | undefined;
  // Every port a knock may use (door steps and trap ports): LOG and DROP. The ports of
  // turning doors are those of the time the plan was last moved to (planAt).
  knockPorts: readonly KnockPort[];
  // The ports that do not turn, and the doors whose ports do.
  fixedKnockPorts: readonly KnockPort[];
  turning: readonly TurningDoor[];
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
  const fixed: [DoorStep, string][] = [];
  const turning: TurningDoor[] = [];
  for (const door of config.doors) {
    const kind = createDoorKind(door.knock);
    if (kind instanceof RotatingKind && !(door.knock.kind === 'rotating' && door.knock.bindSource)) {
      turning.push({ door: door.name, stepsAt: (now) => kind.stepsAt(now), nextTurn: (now) => kind.nextTurn(now) });
    } else {
      for (const step of kind.steps()) fixed.push([step, door.name]);
    }
  }
  for (const step of config.options.trapPorts) fixed.push([step, 'trap']);
  const fixedKnockPorts = mergeKnockPorts(fixed);
  const gates = logOnly ? [] : config.doors
    .map((door, index) => ({ door: door.name, index, ports: door.open, maxConnections: door.maxConnections }))
    .filter((gate) => gate.ports.length > 0);
  const protectedPorts = new Map<string, DoorStep>();
  for (const gate of gates) for (const step of gate.ports) protectedPorts.set(`${step.proto}/${step.port}`, step);
  return {
    logPrefix: config.options.logPrefix ?? DEFAULT_LOG_PREFIX,
    logLimit: config.options.logLimit,
    knockPorts: fixedKnockPorts,
    fixedKnockPorts,
    turning,
    gates,
    protectedPorts: [...protectedPorts.values()],
    // Without entries inside others: nftables' interval sets refuse overlapping elements, and
    // iptables would only get rules that never match.
    whitelist4: logOnly ? [] : outermostNetworks(config.options.whitelist.filter((network) => network.family === 4)),
    whitelist6: logOnly ? [] : outermostNetworks(config.options.whitelist.filter((network) => network.family === 6)),
    logOnly,
  };
}

// The plan with the knock ports of time `now` (the same plan when no door's ports turn).
export function planAt(plan: FirewallPlan, now: number): FirewallPlan {
  if (plan.turning.length === 0) return plan;
  const turned = plan.turning.flatMap((door) => door.stepsAt(now).map((step): [DoorStep, string] => [step, door.door]));
  const fixed = plan.fixedKnockPorts.flatMap((entry) => entry.doors.map((door): [DoorStep, string] => [entry.step, door]));
  return { ...plan, knockPorts: mergeKnockPorts([...fixed, ...turned]) };
}

// The plan with only the knock ports that do not turn: what `check` shows without
// --show-secrets (a rotating door's ports are derived from its secret).
export function fixedPlan(plan: FirewallPlan): FirewallPlan {
  return plan.turning.length === 0 ? plan : { ...plan, knockPorts: plan.fixedKnockPorts };
}

// The plan as `check` shows it: the knock ports of `now`, or with `hideTurning` only the fixed ones.
export function shownPlan(plan: FirewallPlan, now: number, hideTurning: boolean): FirewallPlan {
  return hideTurning ? fixedPlan(plan) : planAt(plan, now);
}

// When the knock ports of a plan at `now` change next (Infinity: never).
export function nextPlanTurn(plan: FirewallPlan, now: number): number {
  return Math.min(Infinity, ...plan.turning.map((door) => door.nextTurn(now)));
}

function mergeKnockPorts(steps: readonly [DoorStep, string][]): KnockPort[] {
  const knock = new Map<string, { step: DoorStep; doors: string[] }>();
  for (const [step, door] of steps) {
    const key = `${step.proto}/${step.port}`;
    const entry = knock.get(key) ?? { step, doors: [] };
    if (!entry.doors.includes(door)) entry.doors.push(door);
    knock.set(key, entry);
  }
  return [...knock.values()].sort((a, b) => a.step.port - b.step.port || a.step.proto.localeCompare(b.step.proto));
}
