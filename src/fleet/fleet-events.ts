import type { FleetOptions } from '../config/fleet-options.js';
import type { LogEvent } from '../runtime/log-events.js';

// Never the password: only the URL as written, which holds none (src/config/fleet.ts).
const where = (fleet: FleetOptions): string => `Redis ${fleet.redis.text} (group ${fleet.group})`;

export const fleetEvents = {
  connected: (fleet: FleetOptions): LogEvent =>
    ({ level: 'info', message: `Fleet: connected to ${where(fleet)} as ${fleet.name}.` }),
  // Only `back` says "is back" (a grep for it counts outages).
  lost: (fleet: FleetOptions, reason: string): LogEvent =>
    ({ level: 'warning', message: `Fleet: ${where(fleet)} is unreachable (${reason}); knocks, grants and bans stay local until it answers again; retrying with backoff.` }),
  back: (fleet: FleetOptions): LogEvent =>
    ({ level: 'notice', message: `Fleet: ${where(fleet)} is back; resynchronising from its keys.` }),
  refused: (fleet: FleetOptions, reason: string): LogEvent =>
    ({ level: 'error', message: `Fleet: ${where(fleet)} refused user ${fleet.redis.username ?? 'default'} (${reason.split('\n')[0] ?? ''}): check redis_password_file and the ACL user; working alone until it accepts.` }),
  resynchronised: (grants: number, bans: number): LogEvent =>
    ({ level: 'info', message: `Fleet: resynchronised, ${grants} remote grant${grants === 1 ? '' : 's'} and ${bans} remote ban${bans === 1 ? '' : 's'} in force.` }),
  // What another host's grant is, as it is applied here (the firewall's own line follows; a
  // remote ban is the firewall's line alone, src/runtime/log-events.ts).
  grantFrom: (src: string, door: string, origin: string, expires: number): LogEvent =>
    ({ level: 'info', message: `Fleet: ${door} for ${src} from ${origin}, ${Number.isFinite(expires) ? `until ${new Date(expires).toISOString()}` : 'until closed'}.` }),
  refusedMessage: (reason: string, total: number): LogEvent =>
    ({ level: 'warning', message: `Fleet: refused a message: ${reason}${total === REFUSALS_LOGGED ? ' (further refusals are summed up once a minute)' : ''}.` }),
  refusedSince: (reasons: ReadonlyMap<string, number>): LogEvent => {
    const total = [...reasons.values()].reduce((sum, count) => sum + count, 0);
    const why = [...reasons].map(([reason, count]) => `${reason} (${count})`).join(', ');
    return { level: 'warning', message: `Fleet: refused ${total} more message${total === 1 ? '' : 's'}: ${why}.` };
  },
  commandRefused: (fleet: FleetOptions, reason: string): LogEvent =>
    ({ level: 'error', message: `Fleet: ${where(fleet)} refused a command (${reason.split('\n')[0] ?? ''}): the ACL user needs +set +del +xadd +xread +xrevrange +scan +mget on ~knockwatch:${fleet.group}:*.` }),
};

// Refused messages logged one by one up to this many; then only counted.
export const REFUSALS_LOGGED = 20;
