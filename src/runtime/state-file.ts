import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Grant } from '../access/grant-table.js';
import type { SourcePosition } from '../sources/line-source.js';
import type { SavedBan, SavedOffenses } from '../access/ban-store.js';
import type { SavedLogout, SavedSession } from '../access/ssh-sessions.js';
import type { UsedWindow } from '../doors/window-ledger.js';
import { replaceFile } from '../text/replace-file.js';
import { emptyState, validateState, type ValidatedState } from './validate-state.js';

export interface SavedGrant {
  src: string;
  door: string;
  opened: number;
  // null for a grant that lasts until closed.
  expires: number | null;
  // The firewall change for this grant was begun: recorded before a start_command runs, so a
  // restart never runs it twice.
  started?: boolean;
  // The stop_command that undoes that start_command, as the config said when it ran: a
  // config changed since (reload or restart) must not undo it with another command.
  stop?: string;
  // The fleet host that decided it (src/fleet/): a restart or reload keeps it remote.
  origin?: string;
}

export interface DaemonState {
  version: 1;
  grants: SavedGrant[];
  bans: SavedBan[];
  // Counts of bans of addresses not banned now, the latest banned last, at most
  // MAX_SAVED_OFFENSES: a repeat offender's ban doubles after a restart too. Missing in files
  // written before: [].
  offenses?: SavedOffenses[];
  // Grants closed whose removal from the firewall (stop_command) is not yet known to have
  // worked: a restart runs it. Missing in files written before: [].
  pendingCloses: SavedGrant[];
  oneTimeUsed: Record<string, number>;
  // once_per_window: per door, the windows each address used while they are still accepted.
  // Missing in files written before: {}.
  usedWindows?: Record<string, UsedWindow[]>;
  // Per rotating door, the latest window (epoch seconds) it had as current: a clock gone back
  // while the daemon was down must not revive an older one. Missing in files written before: {}.
  latestWindows?: Record<string, number>;
  // sshd connections logged in, oldest first, at most MAX_CONNECTIONS: a restart between a
  // login and its logout still closes close_on_logout grants. Missing in files written before: [].
  sessions?: SavedSession[];
  // Addresses whose last session ended, still in logout_grace, the latest last, at most
  // MAX_CONNECTIONS: a restart in the grace still closes close_on_logout grants, the grace
  // counted from `ended`. Missing in files written before: [].
  logouts?: SavedLogout[];
  logs: Record<string, SourcePosition>;
}

export { emptyState };

// Reads the state file; a missing file is an empty state, a damaged one an error message.
// Everything in it is validated again (addresses go to firewall commands): a bad entry is
// dropped and named in `warnings`.
export function loadState(path: string): ValidatedState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyState(), warnings: [] };
    return { state: emptyState(), problem: (error as Error).message, warnings: [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { state: emptyState(), problem: `damaged JSON (${(error as Error).message})`, warnings: [] };
  }
  return validateState(parsed);
}

// Written to a temporary file, flushed, and renamed over the old one: a crash leaves either
// the old state or the new, never half of one.
export function saveState(path: string, state: DaemonState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  replaceFile(path, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
}

export function toSavedGrant(grant: Grant): SavedGrant {
  return { src: grant.src, door: grant.door, opened: grant.opened, expires: Number.isFinite(grant.expires) ? grant.expires : null, ...(grant.origin === undefined ? {} : { origin: grant.origin }) };
}
