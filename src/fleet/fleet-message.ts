import { FLEET_NAME, type FleetKinds } from '../config/fleet-options.js';
import type { Door } from '../config/types.js';
import { normalizeAddress } from '../net/address.js';

// What hosts of a group tell each other, as the JSON of a stream entry's `m` field; a grant
// or ban is also the value of its key. `origin` is the host that decided it.
export type FleetMessage =
  // expires: ms since the epoch; null for a door open until closed.
  | { kind: 'grant'; src: string; door: string; expires: number | null; origin: string }
  | { kind: 'close'; src: string; door: string; origin: string }
  | { kind: 'ban'; src: string; until: number; origin: string }
  | { kind: 'unban'; src: string; origin: string };

// What a message is checked against: this host's doors and ban limit, and its clock.
export interface MessageContext {
  doors: ReadonlyMap<string, Door>;
  banTimeMax: number;
  subscribe: FleetKinds;
  now: number;
}

export type CheckedMessage = { ok: true; message: FleetMessage } | { ok: false; reason: string };

// Longer than any message knockwatch writes (an IPv6 address, a 48-character door, a name).
const MAX_TEXT = 512;
// Two hosts' clocks differ a little: a lifetime may end this much later than this host's
// door or ban limit allows from now.
const CLOCK_SKEW = 5_000;
const FIELDS: Record<FleetMessage['kind'], readonly string[]> = {
  grant: ['kind', 'src', 'door', 'expires', 'origin'],
  close: ['kind', 'src', 'door', 'origin'],
  ban: ['kind', 'src', 'until', 'origin'],
  unban: ['kind', 'src', 'origin'],
};

export function encodeMessage(message: FleetMessage): string {
  return JSON.stringify(message);
}

// A message from Redis as this host may act on it, or why not: anything another host (or
// whoever can write to the group's keys) sends is checked before it reaches a decision.
export function checkMessage(text: unknown, context: MessageContext): CheckedMessage {
  if (typeof text !== 'string' || text.length > MAX_TEXT) return refuse('not a message of at most 512 characters');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse('not an object');
  const fields = value as Record<string, unknown>;
  const kind = fields.kind;
  if (kind !== 'grant' && kind !== 'close' && kind !== 'ban' && kind !== 'unban') return refuse('an unknown kind');
  const extra = Object.keys(fields).filter((key) => !FIELDS[kind].includes(key));
  if (extra.length > 0) return refuse(`unknown fields in a ${kind}`);
  if (typeof fields.origin !== 'string' || !FLEET_NAME.test(fields.origin)) return refuse('an origin that is not a host name');
  const src = typeof fields.src === 'string' ? normalizeAddress(fields.src) : undefined;
  // Only the canonical form: the same address written two ways would be two keys.
  if (src === undefined || src !== fields.src) return refuse('an invalid address');
  const origin = fields.origin;
  if (kind === 'ban' || kind === 'unban') {
    if (!context.subscribe.bans) return refuse('a ban (this host does not subscribe to bans)');
    if (kind === 'unban') return { ok: true, message: { kind, src, origin } };
    const until = fields.until;
    if (!isTime(until)) return refuse('a ban without a time it ends');
    if (until > context.now + context.banTimeMax + CLOCK_SKEW) return refuse('a ban longer than bantime_max');
    return { ok: true, message: { kind, src, until, origin } };
  }
  if (!context.subscribe.grants) return refuse('a grant (this host does not subscribe to grants)');
  const door = typeof fields.door === 'string' ? context.doors.get(fields.door) : undefined;
  if (door === undefined || door.closes !== undefined) return refuse('a door this host does not have');
  if (!door.fleet) return refuse('a door kept local here (fleet = no)');
  if (kind === 'close') return { ok: true, message: { kind, src, door: door.name, origin } };
  const expires = fields.expires;
  if (expires === null) {
    if (door.openFor !== 0) return refuse('a grant until closed of a door with open_for');
    return { ok: true, message: { kind, src, door: door.name, expires, origin } };
  }
  if (!isTime(expires)) return refuse('a grant without a time it ends');
  if (door.openFor !== 0 && expires > context.now + door.openFor + CLOCK_SKEW) return refuse('a grant longer than the door\'s open_for');
  return { ok: true, message: { kind, src, door: door.name, expires, origin } };
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function refuse(reason: string): CheckedMessage {
  return { ok: false, reason };
}
