import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { md5HourSecretProblem } from '../doors/md5-hour.js';
import { parseBoolean, parseCount, parseDuration, parsePort, type Parsed } from './parse-values.js';
import { Secret, withoutFinalNewline } from './secret.js';
import type { SectionReader } from './section-reader.js';
import type { Door, DoorStep, PortRange, RotatingSpec, StepProtocol } from './types.js';

// The keys that make a door a rotating one (any of them without derive or secret_file is a problem).
const ROTATING_KEYS = ['derive', 'secret_file', 'rotate', 'port_range', 'length', 'protocols', 'skew', 'bind_source', 'once_per_window'];
const MIN_ROTATE = 30;
const MAX_SKEW = 3;

// Reads a secret file; throws an Error whose message never holds the file's content.
export type ReadSecretFile = (path: string) => Buffer;

// Reads a door's secret file, for the daemon (owner root) and for `knockwatch knock` (owner the
// user knocking; undefined: any): only the owner may own it, and nobody else may read or
// write it, since whoever reads it can knock. Checked on the open file, so it cannot be
// swapped between the check and the read; `follow = false` (the daemon) refuses a symbolic
// link too. The error's message never holds the file's content.
export function readSecretFile(path: string, owner: number | undefined = 0, follow = false): Buffer {
  const fd = openSync(path, constants.O_RDONLY | (follow ? 0 : constants.O_NOFOLLOW));
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (owner !== undefined && stat.uid !== owner) throw new Error(`owned by uid ${stat.uid}, not by ${owner === 0 ? 'root' : `uid ${owner}`}`);
    if ((stat.mode & 0o077) !== 0) throw new Error(`mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}: group or others have access (chmod 0600)`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function isRotatingDoor(reader: SectionReader): boolean {
  return ROTATING_KEYS.some((key) => reader.has(key));
}

// A rotating door's keys; undefined (with the problems recorded) when they do not make one.
export function readRotating(reader: SectionReader, baseDir: string, readSecret: ReadSecretFile): RotatingSpec | undefined {
  const derive = reader.parse('derive', parseDerive, 'hmac');
  const secret = readSecret_(reader, baseDir, readSecret, derive);
  const range = reader.parse('port_range', parsePortRange);
  if (range === undefined && !reader.has('port_range')) reader.problem('port_range', 'the ports the sequence is derived in (e.g. 10000-10999)', '');
  const skew = reader.parse('skew', (text) => parseCount(text, 0, MAX_SKEW), 1);
  const oncePerWindow = reader.parse('once_per_window', parseBoolean, false);
  if (derive === 'md5-hour') {
    // The recipe fixes these: one hour, five TCP ports, nothing but the secret and the hour.
    for (const key of ['rotate', 'length', 'protocols', 'bind_source']) {
      if (reader.has(key)) reader.problem(key, 'no ' + key + ' with derive = md5-hour (the recipe uses 1h, 5 TCP ports, no address)', reader.text(key) ?? '');
    }
    if (secret === undefined || range === undefined) return undefined;
    return { kind: 'rotating', derive, door: reader.section, secret, rotate: 3600, range, length: 5, protocols: ['tcp'], skew, bindSource: false, oncePerWindow, exclude: [] };
  }
  const rotate = reader.parse('rotate', parseRotate, 3600);
  const length = reader.parse('length', (text) => parseCount(text, 1, 32), 5);
  const protocols = reader.parse('protocols', parseProtocols, ['tcp'] as StepProtocol[]);
  const bindSource = reader.parse('bind_source', parseBoolean, false);
  if (range !== undefined && range.high - range.low + 1 < length) {
    reader.problem('port_range', `at least length (${length}) ports`, `${range.high - range.low + 1} ports`);
  }
  if (secret === undefined || range === undefined) return undefined;
  return { kind: 'rotating', derive, door: reader.section, secret, rotate, range, length, protocols, skew, bindSource, oncePerWindow, exclude: [] };
}

// The secret, with one trailing newline (an editor's) taken off. A problem names the file
// and why, never what is in it.
function readSecret_(reader: SectionReader, baseDir: string, readSecret: ReadSecretFile, derive: RotatingSpec['derive'] | undefined): Secret | undefined {
  const given = reader.text('secret_file');
  if (given === undefined || given === '') {
    reader.problem('secret_file', 'the file holding the door\'s secret (root-owned, mode 0600)', '');
    return undefined;
  }
  const path = resolve(baseDir, given);
  let bytes: Buffer;
  try {
    bytes = readSecret(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    reader.problem('secret_file', 'a regular file owned by root that only root can read', `${path}: ${code ?? (error as Error).message}`);
    return undefined;
  }
  bytes = withoutFinalNewline(bytes);
  if (bytes.length === 0) {
    reader.problem('secret_file', 'a secret that is not empty', `${path}: empty`);
    return undefined;
  }
  if (derive === 'md5-hour') {
    const problem = md5HourSecretProblem(bytes.toString('utf8'));
    if (problem !== undefined) {
      reader.problem('secret_file', problem, `${path}: a secret the recipe cannot use`);
      return undefined;
    }
  }
  return new Secret(bytes);
}

// The other doors' knock ports and the trap ports inside a hmac door's range: its
// derivation skips them (md5-hour must compute what the recipe does: a trap port in its
// range is refused by checkPortConflicts instead).
export function excludeTakenPorts(doors: readonly Door[], trapPorts: readonly DoorStep[], stepsOf: (door: Door) => readonly DoorStep[]): Door[] {
  const taken = new Set<number>(trapPorts.map((step) => step.port));
  for (const door of doors) if (door.knock.kind !== 'rotating') for (const step of stepsOf(door)) if (step.proto !== 'icmp') taken.add(step.port);
  return doors.map((door) => {
    const knock = door.knock;
    if (knock.kind !== 'rotating' || knock.derive !== 'hmac') return door;
    const exclude = [...taken].filter((port) => port >= knock.range.low && port <= knock.range.high).sort((a, b) => a - b);
    return { ...door, knock: { ...knock, exclude } };
  });
}

export function parseDerive(text: string): Parsed<RotatingSpec['derive']> {
  const lower = text.toLowerCase();
  return lower === 'hmac' || lower === 'md5-hour' ? { ok: true, value: lower } : { ok: false, expected: 'hmac or md5-hour', found: text };
}

// Whole seconds, at least MIN_ROTATE: windows start at multiples of it in epoch seconds.
export function parseRotate(text: string): Parsed<number> {
  const parsed = parseDuration(text);
  if (!parsed.ok) return parsed;
  if (parsed.value % 1000 !== 0 || parsed.value < MIN_ROTATE * 1000) return { ok: false, expected: `a whole number of seconds, at least ${MIN_ROTATE}s`, found: text };
  return { ok: true, value: parsed.value / 1000 };
}

export function parsePortRange(text: string): Parsed<PortRange> {
  const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  const low = match ? parsePort(match[1] ?? '') : undefined;
  const high = match ? parsePort(match[2] ?? '') : undefined;
  if (low === undefined || high === undefined || high < low) return { ok: false, expected: 'a port range LOW-HIGH (1-65535, LOW <= HIGH)', found: text };
  return { ok: true, value: { low, high } };
}

export function parseProtocols(text: string): Parsed<StepProtocol[]> {
  const words = text.split(',').map((word) => word.trim().toLowerCase());
  if (words.length === 0 || words.some((word) => word !== 'tcp' && word !== 'udp')) return { ok: false, expected: 'tcp, udp or tcp,udp', found: text };
  return { ok: true, value: [...new Set(words as StepProtocol[])].sort() };
}
