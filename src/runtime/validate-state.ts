import { MAX_SAVED_OFFENSES, type SavedBan, type SavedOffenses } from '../access/ban-store.js';
import { MAX_CONNECTIONS, type SavedLogout, type SavedSession } from '../access/ssh-sessions.js';
import { normalizeAddress } from '../net/address.js';
import { FLEET_NAME } from '../config/fleet-options.js';
import type { LogPosition } from '../sources/follow-file.js';
import type { JournalPosition, KmsgPosition, SourcePosition } from '../sources/line-source.js';
import type { UsedWindow } from '../doors/window-ledger.js';
import type { DaemonState, SavedGrant } from './state-file.js';

// The last time a Date can hold: anything later is no time at all.
const MAX_TIME = 8.64e15;
const HASH = /^[0-9a-f]{32}$/;

// A field check: what was expected, or nothing when the value fits.
type Check = (value: unknown) => string | undefined;

const time: Check = (value) => (typeof value === 'number' && value >= 0 && value <= MAX_TIME ? undefined : 'a time (ms since 1970, 0 to 8.64e15)');
const timeOrNull: Check = (value) => (value === null || time(value) === undefined ? undefined : 'a time (ms since 1970, 0 to 8.64e15) or null');
const offset: Check = (value) => (Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'a byte offset (a whole number, 0 or more)');
const count: Check = (value) => (Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'a count (a whole number, 0 or more)');
const positive: Check = (value) => (Number.isSafeInteger(value) && (value as number) >= 1 ? undefined : 'a whole number, 1 or more');
const fileId: Check = (value) => (Number.isInteger(value) && (value as number) >= 0 && (value as number) < 2 ** 64 ? undefined : 'a device or inode number (a whole number, 0 to 2^64)');
const hash: Check = (value) => (value === '' || (typeof value === 'string' && HASH.test(value)) ? undefined : 'a first-line hash (32 hex digits, or empty)');
const address: Check = (value) => (typeof value === 'string' && normalizeAddress(value) === value ? undefined : 'an address in canonical form');
const name: Check = (value) => (typeof value === 'string' && value !== '' ? undefined : 'a door name');
const seq: Check = (value) => (Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'a kmsg sequence number (a whole number, 0 or more)');
const bootId: Check = (value) => (typeof value === 'string' && value !== '' && value.length <= 64 ? undefined : 'a boot id (a string of at most 64 characters)');
// A cursor is journalctl's own text, given back to it as one argument; 1 KiB holds any real one.
const cursor: Check = (value) => (typeof value === 'string' && value !== '' && Buffer.byteLength(value) <= 1024 ? undefined : 'a journal cursor (a string of at most 1 KiB)');
// Linux's pid_max is at most 2^22.
const pid: Check = (value) => (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 2 ** 22 ? undefined : 'a process id (a whole number, 1 to 2^22)');
const clientPort: Check = (value) => (value === undefined || (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65_535) ? undefined : 'a port (1-65535) or nothing');
const flag: Check = (value) => (value === undefined || typeof value === 'boolean' ? undefined : 'true, false or nothing');

// A stop_command as the config wrote it (its own checks ran when the config was read, and
// set no length: one refused here would be a rule whose stop_command never runs).
const command: Check = (value) => (value === undefined || (typeof value === 'string' && value !== '') ? undefined : 'a command');
// A fleet host's name (src/config/fleet.ts), on a grant or ban another host decided.
const origin: Check = (value) => (value === undefined || (typeof value === 'string' && FLEET_NAME.test(value)) ? undefined : 'a fleet host name or nothing');
const GRANT_FIELDS: Record<keyof SavedGrant, Check> = { src: address, door: name, opened: time, expires: timeOrNull, started: flag, stop: command, origin };
const windowStart: Check = (value) => (Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'a window start (whole epoch seconds)');
const USED_WINDOW_FIELDS: Record<keyof UsedWindow, Check> = { src: address, window: windowStart, until: time };
const BAN_FIELDS: Record<keyof SavedBan, Check> = { src: address, until: time, offenses: positive, origin };
// Past some 40 doublings every ban lasts bantime_max; a million bans is years of a ban a minute.
const offenseCount: Check = (value) => (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 1_000_000 ? undefined : 'a count of bans (a whole number, 1 to 1000000)');
const OFFENSE_FIELDS: Record<keyof SavedOffenses, Check> = { src: address, offenses: offenseCount };
const SESSION_FIELDS: Record<keyof SavedSession, Check> = { pid, src: address, port: clientPort, since: time };
const LOGOUT_FIELDS: Record<keyof SavedLogout, Check> = { src: address, ended: time };
// What two entries of a list that are one have the same of (grants: address and door).
const SAME: Record<string, string> = { bans: 'address', offenses: 'address', usedWindows: 'address and window', sessions: 'sshd pid', logouts: 'address' };
const FILE_POSITION: Record<keyof LogPosition, Check> = { dev: fileId, ino: fileId, offset, firstLineHash: hash };
const KMSG_POSITION: Record<keyof KmsgPosition, Check> = { kind: () => undefined, boot: bootId, seq };
const journalDirectory: Check = (value) => (value === undefined || (typeof value === 'string' && value.startsWith('/') && Buffer.byteLength(value) <= 4096) ? undefined : 'an absolute journal directory');
const JOURNAL_POSITION: Record<keyof JournalPosition, Check> = { kind: () => undefined, cursor, directory: journalDirectory };

export interface ValidatedState {
  state: DaemonState;
  // Set when the whole file is unusable; the state is then empty.
  problem?: string;
  // One line per entry dropped (addresses and numbers only, never a secret).
  warnings: string[];
}

// A state with nothing in it: a new daemon's, and what a file that is not a state file gives.
export function emptyState(): DaemonState {
  return { version: 1, grants: [], bans: [], offenses: [], pendingCloses: [], oneTimeUsed: {}, usedWindows: {}, latestWindows: {}, sessions: [], logouts: [], logs: {} };
}

// Takes what JSON.parse made of a state file field by field: a bad entry is dropped with a
// warning, the rest is kept; only a file that is not a state file at all is refused whole.
export function validateState(parsed: unknown): ValidatedState {
  if (!isRecord(parsed) || parsed.version !== 1 || !Array.isArray(parsed.grants)) {
    return { state: emptyState(), problem: 'not a knockwatch state file (version 1)', warnings: [] };
  }
  const warnings: string[] = [];
  const grants = validateList(parsed.grants, 'grants', GRANT_FIELDS, grantKey, warnings);
  const pendingCloses = validateList(parsed.pendingCloses, 'pendingCloses', GRANT_FIELDS, grantKey, warnings);
  const bans = validateList(parsed.bans, 'bans', BAN_FIELDS, (ban) => ban.src, warnings);
  const offenses = latest(validateList(parsed.offenses, 'offenses', OFFENSE_FIELDS, (entry) => entry.src, warnings), 'offenses', MAX_SAVED_OFFENSES, warnings);
  const oneTimeUsed = validateRecord(parsed.oneTimeUsed, 'oneTimeUsed', (value) => problemOf(count, value), (value) => value as number, warnings);
  const usedWindows = validateRecord(parsed.usedWindows, 'usedWindows', (value) => (Array.isArray(value) ? undefined : problemOf(() => 'a list', value)),
    (value) => validateList<UsedWindow>(value, 'usedWindows', USED_WINDOW_FIELDS, (entry) => `${entry.src} ${entry.window}`, warnings), warnings);
  const latestWindows = validateRecord(parsed.latestWindows, 'latestWindows', (value) => problemOf(windowStart, value), (value) => value as number, warnings);
  const sessions = latest(validateList(parsed.sessions, 'sessions', SESSION_FIELDS, (session) => String(session.pid), warnings), 'sessions', MAX_CONNECTIONS, warnings);
  const logouts = latest(validateList(parsed.logouts, 'logouts', LOGOUT_FIELDS, (logout) => logout.src, warnings), 'logouts', MAX_CONNECTIONS, warnings);
  const logs = validateRecord(parsed.logs, 'logs', (value) => (isRecord(value) ? positionProblem(value) : problemOf(() => 'a log position', value)),
    (value) => pick<SourcePosition>(value as Record<string, unknown>, positionFields(value as Record<string, unknown>) ?? FILE_POSITION), warnings);
  return { state: { version: 1, grants, bans, offenses, pendingCloses, oneTimeUsed, usedWindows, latestWindows, sessions, logouts, logs }, warnings };
}

// No more entries than knockwatch writes (sessions: SshSessions forgets its oldest past its
// cap, and so does this); the last ones are the newest.
function latest<T>(list: T[], where: string, cap: number, warnings: string[]): T[] {
  if (list.length <= cap) return list;
  warnings.push(`${where}: ${list.length} entries, at most ${cap} kept (the newest); ${list.length - cap} dropped`);
  return list.slice(-cap);
}

// The entries of a list whose every field fits, copied field by field; the first of
// several entries with the same key wins.
function validateList<T>(list: unknown, where: string, fields: Record<keyof T, Check>, keyOf: (entry: T) => string, warnings: string[]): T[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    warnings.push(`${where}: ${problemOf(() => 'a list', list)}; ignored`);
    return [];
  }
  const kept: T[] = [];
  const seen = new Set<string>();
  list.forEach((entry: unknown, index) => {
    const label = `${where}[${index}]${isRecord(entry) && address(entry.src) === undefined ? ` (${String(entry.src)})` : ''}`;
    const problem = isRecord(entry) ? firstProblem(entry, fields) : problemOf(() => 'an object', entry);
    if (problem !== undefined) {
      warnings.push(`${label}: ${problem}; dropped`);
      return;
    }
    const value = pick(entry as Record<string, unknown>, fields);
    const key = keyOf(value);
    if (seen.has(key)) {
      warnings.push(`${label}: a second entry for the same ${SAME[where] ?? 'address and door'}; dropped`);
      return;
    }
    seen.add(key);
    kept.push(value);
  });
  return kept;
}

// The entries of a name → value object whose value fits; built with fromEntries, so a key
// such as "__proto__" stays a plain key.
function validateRecord<T>(record: unknown, where: string, problem: (value: unknown) => string | undefined, convert: (value: unknown) => T, warnings: string[]): Record<string, T> {
  if (record === undefined) return {};
  if (!isRecord(record)) {
    warnings.push(`${where}: ${problemOf(() => 'an object', record)}; ignored`);
    return {};
  }
  const kept: [string, T][] = [];
  for (const [key, value] of Object.entries(record)) {
    const found = key === '' ? 'expected a name, found an empty one' : problem(value);
    if (found === undefined) kept.push([key, convert(value)]);
    else warnings.push(`${where}[${describe(key)}]: ${found}; dropped`);
  }
  return Object.fromEntries(kept);
}

// A file position has no `kind`; kmsg and journal positions say theirs.
function positionFields(entry: Record<string, unknown>): Record<string, Check> | undefined {
  if (entry.kind === undefined) return FILE_POSITION;
  if (entry.kind === 'kmsg') return KMSG_POSITION;
  if (entry.kind === 'journal') return JOURNAL_POSITION;
  return undefined;
}

function positionProblem(entry: Record<string, unknown>): string | undefined {
  const fields = positionFields(entry);
  if (fields === undefined) return `kind: ${problemOf(() => 'kmsg, journal or nothing (a file)', entry.kind)}`;
  return firstProblem(entry, fields);
}

function firstProblem(entry: Record<string, unknown>, fields: Record<string, Check>): string | undefined {
  for (const [field, check] of Object.entries(fields)) {
    const found = problemOf(check, entry[field]);
    if (found !== undefined) return `${field}: ${found}`;
  }
  return undefined;
}

function problemOf(check: Check, value: unknown): string | undefined {
  const expected = check(value);
  return expected === undefined ? undefined : `expected ${expected}, found ${describe(value)}`;
}

// Only the known fields, and an optional one only when it is there.
function pick<T>(entry: Record<string, unknown>, fields: Record<keyof T, Check>): T {
  return Object.fromEntries(Object.keys(fields).filter((field) => entry[field] !== undefined).map((field) => [field, entry[field]])) as T;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function grantKey(grant: SavedGrant): string {
  return `${grant.src} ${grant.door}`;
}

// A value from the file as it can be shown: short, and with any control character escaped.
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
