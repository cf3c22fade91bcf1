import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Grant } from '../grants/grant-table.js';
import { normalizeAddress } from '../net/address.js';
import type { LogPosition } from '../sources/follow-file.js';
import type { SavedBan } from '../engine/auth-tracker.js';

export interface SavedGrant {
  src: string;
  door: string;
  opened: number;
  // null for a grant that lasts until closed.
  expires: number | null;
}

export interface DaemonState {
  version: 1;
  grants: SavedGrant[];
  bans: SavedBan[];
  oneTimeUsed: Record<string, number>;
  logs: Record<string, LogPosition>;
}

export function emptyState(): DaemonState {
  return { version: 1, grants: [], bans: [], oneTimeUsed: {}, logs: {} };
}

// Reads the state file; a missing file is an empty state, a damaged one an error message.
export function loadState(path: string): { state: DaemonState; problem?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyState() };
    return { state: emptyState(), problem: (error as Error).message };
  }
  try {
    const parsed = JSON.parse(text) as Partial<DaemonState>;
    if (parsed.version !== 1 || !Array.isArray(parsed.grants)) return { state: emptyState(), problem: 'not a knockwatch state file (version 1)' };
    // Addresses from the file go to firewall commands: they are validated again.
    const grants = parsed.grants.filter((grant) => typeof grant.door === 'string' && normalizeAddress(String(grant.src)) === grant.src
      && typeof grant.opened === 'number' && (grant.expires === null || typeof grant.expires === 'number'));
    const bans = (Array.isArray(parsed.bans) ? parsed.bans : []).filter((ban) => normalizeAddress(String(ban.src)) === ban.src
      && typeof ban.until === 'number' && typeof ban.offenses === 'number');
    return { state: { version: 1, grants, bans, oneTimeUsed: parsed.oneTimeUsed ?? {}, logs: parsed.logs ?? {} } };
  } catch (error) {
    return { state: emptyState(), problem: `damaged JSON (${(error as Error).message})` };
  }
}

// Written to a temporary file, flushed, and renamed over the old one: a crash leaves either
// the old state or the new, never half of one.
export function saveState(path: string, state: DaemonState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 1)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  try {
    const dirFd = openSync(dirname(path), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // Not every file system lets a directory be synced; the rename is still atomic.
  }
}

export function toSavedGrant(grant: Grant): SavedGrant {
  return { src: grant.src, door: grant.door, opened: grant.opened, expires: Number.isFinite(grant.expires) ? grant.expires : null };
}
