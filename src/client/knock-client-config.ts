import { isIP } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseIni } from 'ini';
import type { StepProtocol } from '../config/types.js';
import { flattenSections } from '../config/flatten-sections.js';
import { parseBoolean, parseCount, parseDuration, parseKnockSteps, parsePort, type Parsed } from '../config/parse-values.js';
import { ConfigError, type ConfigProblem } from '../config/problems.js';
import { checkRawLines } from '../config/raw-lines.js';
import { SectionReader } from '../config/section-reader.js';
import type { RotatingClientDoor, StaticClientDoor } from './knock-steps.js';

// client.ini: a section per host ([myhost]: address, family, source, delay) and a section
// per door of a host ([myhost openSSH]: a static `sequence`, or a rotating door's secret_file
// with rotate or derive). Secret files are read only for the door being knocked.
export interface ClientConfig {
  file: string;
  // By lower-case host name.
  hosts: ReadonlyMap<string, ClientHost>;
}

export interface ClientHost {
  name: string;
  // What to resolve; the section name when not given.
  address: string;
  family: 4 | 6 | undefined;
  // The address the daemon sees (a NAT's public address); see --source.
  source: string | undefined;
  delay: number | undefined;
  // By lower-case door name.
  doors: ReadonlyMap<string, ClientDoorEntry>;
}

// A rotating door before its secret file is read.
export type ClientDoorEntry = StaticClientDoor | (Omit<RotatingClientDoor, 'secret'> & { secretFile: string });

const MIN_ROTATE = 30_000;
const DOOR_KEYS = ['sequence', 'secret_file', 'derive', 'rotate', 'port_range', 'length', 'protocols', 'bind_source', 'exclude'];

export function parseClientConfig(text: string, file: string, home: string | undefined): ClientConfig {
  const problems: ConfigProblem[] = [];
  checkRawLines(text, file, problems);
  const hosts = new Map<string, ClientHost & { doors: Map<string, ClientDoorEntry> }>();
  const hostFor = (name: string): ClientHost & { doors: Map<string, ClientDoorEntry> } => {
    const known = hosts.get(name.toLowerCase());
    if (known !== undefined) return known;
    const host = { name, address: name, family: undefined, source: undefined, delay: undefined, doors: new Map<string, ClientDoorEntry>() };
    hosts.set(name.toLowerCase(), host);
    return host;
  };
  for (const [section, values] of flattenSections(parseIni(text) as Record<string, unknown>)) {
    const reader = new SectionReader(file, section, values, problems);
    const words = section.trim().split(/\s+/);
    if (section.trim() === '' || words.length > 2) {
      problems.push({ file, section, key: '', expected: 'a section [HOST] or [HOST DOOR]', found: section });
      continue;
    }
    const [hostName = '', doorName] = words;
    const host = hostFor(hostName);
    if (doorName === undefined) Object.assign(host, readHost(reader, host.name));
    else host.doors.set(doorName.toLowerCase(), readDoor(reader, doorName, dirname(file), home));
    for (const key of reader.leftovers()) {
      reader.problem(key, doorName === undefined ? 'a host key (address, family, source, delay)' : `a door key (${DOOR_KEYS.join(', ')})`, reader.originalKey(key));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { file, hosts };
}

function readHost(reader: SectionReader, name: string): Omit<ClientHost, 'name' | 'doors'> {
  return {
    address: reader.text('address') ?? name,
    family: reader.parse('family', parseFamily),
    source: reader.parse('source', parseAddress),
    delay: reader.parse('delay', parseDuration),
  };
}

function readDoor(reader: SectionReader, name: string, base: string, home: string | undefined): ClientDoorEntry {
  const sequence = reader.parse('sequence', parseKnockSteps);
  const secretText = reader.text('secret_file');
  if (sequence !== undefined) {
    for (const key of DOOR_KEYS.slice(1)) {
      if (reader.text(key) !== undefined) reader.problem(key, 'no rotating-door key next to a static sequence', reader.originalKey(key));
    }
    return { kind: 'static', name, sequence };
  }
  if (secretText === undefined) {
    reader.problem('sequence', 'sequence = PORTS, or secret_file with rotate or derive = md5-hour', '');
    return { kind: 'static', name, sequence: [] };
  }
  const derive = reader.parse('derive', parseDerive, 'hmac');
  const rotate = reader.parse('rotate', parseRotate);
  if (derive === 'hmac' && rotate === undefined && !reader.has('rotate')) reader.problem('rotate', 'a window length (at least 30s) or derive = md5-hour', '');
  if (derive === 'md5-hour' && rotate !== undefined) reader.problem('rotate', 'no rotate with derive = md5-hour (its window is the UTC hour)', reader.text('rotate') ?? '');
  return {
    kind: 'rotating',
    name,
    secretFile: expandPath(secretText, base, home),
    derive,
    rotate,
    portRange: reader.parse('port_range', parsePortRange, { low: 0, high: 0 }),
    length: reader.parse('length', (text) => parseCount(text, 1, 32)),
    protocols: reader.parse('protocols', parseProtocols, ['tcp']),
    bindSource: reader.parse('bind_source', parseBoolean, false),
    exclude: reader.parse('exclude', parseExclude, []),
  };
}

// `~/x` from the home directory, a relative path from the config's directory.
function expandPath(path: string, base: string, home: string | undefined): string {
  if (path.startsWith('~/') && home !== undefined) return join(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

function parseFamily(text: string): Parsed<4 | 6> {
  return text === '4' || text === '6' ? { ok: true, value: Number(text) as 4 | 6 } : { ok: false, expected: '4 or 6', found: text };
}

export function parseAddress(text: string): Parsed<string> {
  return isIP(text) !== 0 ? { ok: true, value: text } : { ok: false, expected: 'an IPv4 or IPv6 address', found: text };
}

// The daemon's spellings: hmac (HMAC-SHA256) or md5-hour.
function parseDerive(text: string): Parsed<'hmac' | 'md5-hour'> {
  const lower = text.toLowerCase();
  return lower === 'hmac' || lower === 'md5-hour' ? { ok: true, value: lower } : { ok: false, expected: 'hmac or md5-hour', found: text };
}

function parseExclude(text: string): Parsed<number[]> {
  const ports = text.split(',').map((word) => parsePort(word.trim()));
  return ports.every((port) => port !== undefined) ? { ok: true, value: ports as number[] } : { ok: false, expected: 'ports separated by commas', found: text };
}

function parseRotate(text: string): Parsed<number> {
  const parsed = parseDuration(text);
  if (parsed.ok && parsed.value < MIN_ROTATE) return { ok: false, expected: 'a window of at least 30s', found: text };
  return parsed;
}

function parsePortRange(text: string): Parsed<{ low: number; high: number }> {
  const [lowText = '', highText = '', extra] = text.split('-').map((part) => part.trim());
  const low = parsePort(lowText);
  const high = parsePort(highText);
  if (extra !== undefined || low === undefined || high === undefined || low >= high) return { ok: false, expected: 'LOW-HIGH ports with LOW < HIGH', found: text };
  return { ok: true, value: { low, high } };
}

function parseProtocols(text: string): Parsed<StepProtocol[]> {
  const words = text.split(',').map((word) => word.trim().toLowerCase());
  if (words.some((word) => word !== 'tcp' && word !== 'udp')) return { ok: false, expected: 'tcp, udp or tcp,udp', found: text };
  return { ok: true, value: [...new Set(words as StepProtocol[])] };
}

// The default path: $XDG_CONFIG_HOME/knockwatch/client.ini, else ~/.config/knockwatch/client.ini.
export function defaultClientConfigPath(env: Record<string, string | undefined>): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base === undefined ? undefined : join(base, 'knockwatch', 'client.ini');
}
