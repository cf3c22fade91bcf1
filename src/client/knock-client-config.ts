import { isIP } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readSections } from '../config/flatten-sections.js';
import { parseBoolean, parseCount, parseDuration, parseKnockSteps, parsePort, type Parsed } from '../config/parse-values.js';
import { parseDerive, parsePortRange, parseProtocols, parseRotate } from '../config/rotating-door.js';
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
  for (const [section, values] of readSections(text)) {
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
  if (!reader.has('port_range')) reader.problem('port_range', 'the ports the sequence is derived in (e.g. 10000-10999)', '');
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

function parseAddress(text: string): Parsed<string> {
  return isIP(text) !== 0 ? { ok: true, value: text } : { ok: false, expected: 'an IPv4 or IPv6 address', found: text };
}

function parseExclude(text: string): Parsed<number[]> {
  const ports = text.split(',').map((word) => parsePort(word.trim()));
  return ports.every((port) => port !== undefined) ? { ok: true, value: ports as number[] } : { ok: false, expected: 'ports separated by commas', found: text };
}

// The default path: $XDG_CONFIG_HOME/knockwatch/client.ini, else ~/.config/knockwatch/client.ini.
export function defaultClientConfigPath(env: Record<string, string | undefined>): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base === undefined ? undefined : join(base, 'knockwatch', 'client.ini');
}
