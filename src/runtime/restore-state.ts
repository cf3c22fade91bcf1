import type { Config, Door } from '../config/types.js';
import type { SavedBan } from '../access/ban-store.js';
import { networkContains } from '../net/address.js';
import { FUTURE_TOLERANCE } from './event-time.js';
import type { Grant } from '../access/grant-table.js';
import type { SavedGrant } from './state-file.js';

export interface RestoreResult {
  // Grants put into the pipeline.
  kept: number;
  // Grants left out: expired, of a door that is gone, or not valid with the door as it is now.
  dropped: SavedGrant[];
  // Why an entry was left out when its door or the config makes it wrong (no secrets).
  warnings: string[];
  // Addresses whose ban was left out because the config whitelists them: the firewall must
  // lift it too.
  liftedBans: string[];
}

// Puts grants and bans known from before (a restart, or the config before a reload) into a
// new pipeline: grants only for doors that still open something, nothing that has expired,
// nothing that would last longer than the door (or the ban time) allows now, no ban of a
// whitelisted address.
export interface RestoreTarget {
  grant(grant: Grant): void;
  ban(ban: SavedBan): void;
  // A ban that ended meanwhile: its count still doubles the address's next ban.
  ended(ban: SavedBan): void;
}

export function restoreInto(config: Config, grants: readonly SavedGrant[], bans: readonly SavedBan[], now: number, target: RestoreTarget): RestoreResult {
  const result: RestoreResult = { kept: 0, dropped: [], warnings: [], liftedBans: [] };
  for (const saved of grants) {
    const door = config.doors.find((candidate) => candidate.name === saved.door && candidate.closes === undefined);
    const expires = saved.expires ?? Infinity;
    if (door === undefined || expires <= now) {
      result.dropped.push(saved);
      continue;
    }
    const problem = checkGrant(saved, door, now);
    if (problem !== undefined) {
      result.warnings.push(`grant of ${saved.src} on door ${saved.door}: ${problem}; dropped`);
      result.dropped.push(saved);
      continue;
    }
    target.grant({ src: saved.src, door: door.name, ports: door.open, opened: saved.opened, expires, origin: saved.origin });
    result.kept++;
  }
  const longest = config.options.banTimeMax + FUTURE_TOLERANCE;
  for (const ban of bans) {
    if (ban.until <= now) {
      target.ended(ban);
      continue;
    }
    if (config.options.whitelist.some((network) => networkContains(network, ban.src))) {
      result.liftedBans.push(ban.src);
      continue;
    }
    if (ban.until > now + longest) {
      result.warnings.push(`ban of ${ban.src}: until: expected at most ${formatSeconds(longest)} from now (bantime_max), found ${formatSeconds(ban.until - now)} from now; dropped`);
      continue;
    }
    target.ban(ban);
  }
  return result;
}

// A grant's times against its door: a knock's time may be up to FUTURE_TOLERANCE ahead of
// the host clock, and its grant lasts open_for from then; anything else was not made by
// this door, or not by knockwatch.
function checkGrant(saved: SavedGrant, door: Door, now: number): string | undefined {
  if (saved.opened > now + FUTURE_TOLERANCE) {
    return `opened: expected at most ${formatSeconds(FUTURE_TOLERANCE)} from now, found ${formatSeconds(saved.opened - now)} from now`;
  }
  if (door.openFor === 0) return undefined;
  if (saved.expires === null) return `expires: expected a time (door ${door.name} lasts ${formatSeconds(door.openFor)}), found null (until closed)`;
  const longest = door.openFor + FUTURE_TOLERANCE;
  if (saved.expires > now + longest) {
    return `expires: expected at most ${formatSeconds(longest)} from now (open_for ${formatSeconds(door.openFor)}), found ${formatSeconds(saved.expires - now)} from now`;
  }
  return undefined;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
