import type { Config } from '../config/types.js';
import type { SavedBan } from '../engine/auth-tracker.js';
import type { Pipeline } from './pipeline.js';
import type { SavedGrant } from './state-file.js';

// Puts grants and bans known from before (a restart, or the config before a reload) into a
// new pipeline: grants only for doors that still open something, nothing that has expired.
// Returns how many grants were kept and how many were dropped.
export function restoreInto(pipeline: Pipeline, config: Config, grants: readonly SavedGrant[], bans: readonly SavedBan[], now: number): { kept: number; dropped: SavedGrant[] } {
  const dropped: SavedGrant[] = [];
  for (const saved of grants) {
    const door = config.doors.find((candidate) => candidate.name === saved.door && candidate.closes === undefined);
    const expires = saved.expires ?? Infinity;
    if (door === undefined || expires <= now) {
      dropped.push(saved);
      continue;
    }
    pipeline.grants.restore({ src: saved.src, door: door.name, ports: door.open, opened: saved.opened, expires });
  }
  for (const ban of bans) {
    if (ban.until <= now) continue;
    pipeline.auth.restoreBan(ban);
    pipeline.engine.ban(ban.src, ban.until);
  }
  return { kept: grants.length - dropped.length, dropped };
}
