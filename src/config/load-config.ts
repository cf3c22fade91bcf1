import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { normalizeAddress } from '../net/address.js';
import { isValidTimeZone } from '../text/time-zone.js';
import { ConfigError, type ConfigProblem, type ConfigWarning } from './problems.js';
import { parseBoolean, parseCount, parseDuration, parseKnockSteps, parseSteps, parseTcpFlags, type Parsed } from './parse-values.js';
import { SectionReader } from './section-reader.js';
import { checkRawLines } from './raw-lines.js';
import { readSections } from './flatten-sections.js';
import { readJournalDirectory, readSourceChoice } from './read-sources.js';
import { readWhitelist, warnWhitelist } from './whitelist.js';
import { translateDoorCommands, type DoorDraft } from './door-commands.js';
import { checkPortConflicts } from './port-conflicts.js';
import { withAdjacentTraps } from './trap-adjacent.js';
import { excludeTakenPorts, isRotatingDoor, readRotating, readSecretFile, type ReadSecretFile } from './rotating-door.js';
import { createDoorKind } from '../doors/create-door-kind.js';
import { warnZeroDurations } from './duration-warnings.js';
import { readFleet } from './fleet.js';
import { checkLogLimitFit, readLogLimit, warnLogLimit } from './log-limit.js';
import { warnIneffectiveKeys, type FirewallMode } from './backend-warnings.js';
import { splitCommand } from '../text/split-command.js';
import { DEFAULT_CONTROL_SOCKET, DEFAULT_LOG_PREFIX } from './defaults.js';
import { FIREWALL_KINDS, isFirewallKind, type Config, type Door, type DoorStep, type FirewallKind, type KnockSpec, type Options } from './types.js';

const KNOCKD_UNUSED_OPTIONS = ['usesyslog', 'logfile', 'pidfile', 'interface'];
const DOOR_NAME = /^[\w.:@+-][\w .:@+-]{0,47}$/;
// Comments knockwatch's own rules carry (knockwatch:<name>): a door by that name would be
// read as one of them when the firewall is verified.
const RESERVED_DOOR_NAMES = new Set(['whitelist', 'gate', 'ban', 'knock', 'established', 'loopback', 'trap', 'options']);
const OPTION_DURATIONS = ['retransmit_window', 'trap_for', 'findtime', 'bantime', 'bantime_max', 'logout_grace'];
const DOOR_DURATIONS = ['seq_timeout', 'timeout', 'open_for', 'cmd_timeout'];

export const DEFAULTS = {
  stateFile: '/var/lib/knockwatch/state.json',
  seqTimeout: 25_000,
  cmdTimeout: 10_000,
  maxTracked: 50_000,
  maxFirstSteps: 1_048_576,
  retransmitWindow: 5_000,
  trapFor: 300_000,
  maxRetry: 5,
  findTime: 600_000,
  banTime: 600_000,
  banTimeMax: 7 * 86_400_000,
  logoutGrace: 0,
} as const;

// How the config library reads files (the config, one_time_sequences files): node:fs unless
// a caller gives its own.
export type ReadTextFile = (path: string) => string;

const readTextFile: ReadTextFile = (path) => readFileSync(path, 'utf8');

export function loadConfigFile(path: string, firewall?: FirewallKind, readFile: ReadTextFile = readTextFile, readSecret: ReadSecretFile = readSecretFile): Config {
  return parseConfig(readConfigText(path, readFile), path, firewall, readFile, readSecret);
}

// The config file's text; one that cannot be read is a ConfigError naming it.
export function readConfigText(path: string, readFile: ReadTextFile = readTextFile): string {
  try {
    return readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError([{ file: path, section: '', key: '', expected: 'a readable config file', found: reason }]);
  }
}

// Reads knockwatch.ini or an unchanged knockd.conf; throws ConfigError with every problem.
// `firewall` is the --firewall override, when given: the doors' meaning depends on it.
export function parseConfig(text: string, file: string, firewall?: FirewallKind, readFile: ReadTextFile = readTextFile, readSecret: ReadSecretFile = readSecretFile): Config {
  const problems: ConfigProblem[] = [];
  checkRawLines(text, file, problems);
  const sections = readSections(text);
  let options: Options | undefined;
  let optionsReader: SectionReader | undefined;
  const unused: string[] = [];
  const doorReaders: SectionReader[] = [];
  let fleet: Config['fleet'];
  for (const [name, values] of sections) {
    const reader = new SectionReader(file, name, values, problems);
    if (name.toLowerCase() === 'fleet') {
      fleet = readFleet(reader, dirname(file), readSecret, readFile);
    } else if (name.toLowerCase() === 'options') {
      options = readOptions(reader, unused);
      optionsReader = reader;
      for (const key of reader.leftovers()) reportUnknown(reader, key, 'an option of [options]');
    } else {
      doorReaders.push(reader);
    }
  }
  const optionsGiven = optionsReader !== undefined;
  optionsReader ??= new SectionReader(file, 'options', {}, problems);
  options ??= readOptions(optionsReader, unused);
  const drafts = doorReaders.map((reader) => readDoor(reader, dirname(file), readFile, readSecret));
  if (drafts.length === 0) problems.push({ file, section: '', key: '', expected: 'at least one door section', found: optionsGiven ? 'only [options]' : '' });
  const chosen = firewall ?? options.firewall;
  const mode = firewallMode(chosen, drafts.map((draft) => draft.door));
  const translated = mode === 'managed' ? translateDoorCommands(drafts, chosen ?? 'nftables or iptables') : drafts.map((draft) => draft.door);
  options = { ...options, trapPorts: withAdjacentTraps(options.trapPorts, translated) };
  const doors = excludeTakenPorts(translated, options.trapPorts, (door) => createDoorKind(door.knock).steps());
  for (const [index, door] of doors.entries()) {
    if (door.closes !== undefined && !doors.some((other) => other.name === door.closes && other !== door)) {
      drafts[index]?.reader.problem('closes', 'the name of another door', door.closes);
    }
  }
  checkPortConflicts(doors, options.trapPorts, file, problems);
  checkLogLimitFit(doors, options.logLimit, file, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const warnings = collectWarnings(optionsReader, options, drafts.map((draft, index) => ({ ...draft, door: doors[index] ?? draft.door })), mode, chosen);
  return { file, options: { ...options, logPrefix: effectiveLogPrefix(options, mode) }, doors, unused, warnings, fleet };
}

function collectWarnings(optionsReader: SectionReader, options: Options, drafts: readonly DoorDraft[], mode: FirewallMode, firewall: FirewallKind | undefined): ConfigWarning[] {
  return [
    ...(mode === 'managed' || options.whitelist.length > 0 ? warnWhitelist(options.whitelist, optionsReader.file) : []),
    ...warnZeroDurations(optionsReader, OPTION_DURATIONS),
    ...drafts.flatMap((draft) => warnZeroDurations(draft.reader, DOOR_DURATIONS)),
    ...warnIneffectiveKeys(optionsReader, drafts, mode, firewall ?? 'nftables or iptables'),
    ...warnLogLimit(optionsReader, drafts.map((draft) => draft.door), options.logLimit),
  ];
}

// As chooseFirewall decides it: with no firewall given, doors with a start_command mean
// knockd's commands; otherwise knockwatch's own ruleset.
function firewallMode(firewall: FirewallKind | undefined, doors: readonly Door[]): FirewallMode {
  if (firewall === 'command' || firewall === 'dry-run') return firewall;
  if (firewall === undefined && doors.some((door) => door.startCommand !== undefined)) return 'command';
  return 'managed';
}

// With a firewall knockwatch manages, only its own LOG rules (prefix "knockwatch" unless set)
// count; with commands or dry-run the LOG rules are the admin's, so any prefix does. Decided
// here, once, so the daemon and replay read the same lines.
function effectiveLogPrefix(options: Options, mode: FirewallMode): string | undefined {
  if (options.logPrefix !== undefined) return options.logPrefix;
  return mode === 'managed' ? DEFAULT_LOG_PREFIX : undefined;
}

function readOptions(reader: SectionReader, unused: string[]): Options {
  for (const key of KNOCKD_UNUSED_OPTIONS) {
    if (reader.has(key)) {
      reader.text(key);
      unused.push(`[${reader.section}] ${reader.originalKey(key)}`);
    }
  }
  const trapPorts = reader.parse('trap_ports', (text) => parseSteps(text, ':', 1024), []);
  return {
    kernelSource: readSourceChoice(reader, 'kernel'),
    authSource: readSourceChoice(reader, 'auth'),
    journalDirectory: readJournalDirectory(reader),
    firewall: reader.parse('firewall', parseFirewall),
    whitelist: readWhitelist(reader),
    stateFile: reader.text('state_file') ?? DEFAULTS.stateFile,
    logPrefix: reader.parse('log_prefix', parseLogPrefix),
    timeZone: reader.parse('timezone', parseTimeZone),
    maxTracked: reader.parse('max_tracked', (text) => parseCount(text, 1, 10_000_000), DEFAULTS.maxTracked),
    maxFirstSteps: reader.parse('max_first_steps', (text) => parseCount(text, 0, 16_777_216), DEFAULTS.maxFirstSteps),
    retransmitWindow: reader.parse('retransmit_window', parseDuration, DEFAULTS.retransmitWindow),
    trapPorts,
    trapFor: reader.parse('trap_for', parseDuration, DEFAULTS.trapFor),
    logLimit: readLogLimit(reader),
    maxRetry: reader.parse('maxretry', (text) => parseCount(text, 1, 1000), DEFAULTS.maxRetry),
    findTime: reader.parse('findtime', parseDuration, DEFAULTS.findTime),
    banTime: reader.parse('bantime', parseDuration, DEFAULTS.banTime),
    banTimeMax: reader.parse('bantime_max', parseDuration, DEFAULTS.banTimeMax),
    logoutGrace: reader.parse('logout_grace', parseDuration, DEFAULTS.logoutGrace),
    controlSocket: reader.parse('control_socket', parseSocketPath, DEFAULT_CONTROL_SOCKET),
  };
}

function readDoor(reader: SectionReader, baseDir: string, readFile: ReadTextFile, readSecret: ReadSecretFile): DoorDraft {
  const name = reader.section;
  if (!DOOR_NAME.test(name)) {
    reader.problem('', 'a door name of letters, digits, spaces and ._:@+- (at most 48)', name);
  } else if (RESERVED_DOOR_NAMES.has(name.toLowerCase())) {
    reader.problem('', `a door name other than ${[...RESERVED_DOOR_NAMES].join(', ')} (knockwatch's own rules are named so)`, name);
  }
  const knock = readKnock(reader, baseDir, readFile, readSecret);
  const startCommand = readCommand(reader, 'start_command', 'command');
  const startCommand6 = readCommand(reader, 'start_command_6', 'command_6');
  const stopCommand = readCommand(reader, 'stop_command');
  const stopCommand6 = readCommand(reader, 'stop_command_6');
  if (reader.has('cmd_timeout') && reader.has('open_for')) reader.problem('open_for', 'cmd_timeout or open_for, not both', 'both');
  const closes = reader.text('closes');
  const openSteps = reader.parse('open', (text) => parseSteps(text, '/', 64));
  const destination = reader.parse('destination', parseAddress) ?? reader.parse('target', parseAddress);
  if (reader.has('destination') && reader.has('target')) reader.problem('target', 'target or destination, not both', 'both');
  const stepTimeout = reader.parse('step_timeout', parseStepTimeout);
  // knockd reads `timeout` as another name for seq_timeout.
  const seqTimeout = reader.parse('seq_timeout', parseDuration);
  const timeout = reader.parse('timeout', parseDuration);
  if (reader.has('seq_timeout') && reader.has('timeout')) reader.problem('timeout', 'seq_timeout or timeout, not both', 'both');
  const door: Door = {
    name,
    knock,
    seqTimeout: seqTimeout ?? timeout ?? (stepTimeout === undefined ? DEFAULTS.seqTimeout : stepTimeout * longestSequence(knock)),
    stepTimeout,
    tcpflags: reader.parse('tcpflags', parseTcpFlags),
    order: reader.parse('order', parseOrder, 'sequence'),
    destination,
    strict: reader.parse('strict', parseBoolean, false),
    open: closes !== undefined ? [] : openSteps ?? [{ port: 22, proto: 'tcp' }],
    openFor: readLifetime(reader, startCommand !== undefined || startCommand6 !== undefined, stopCommand !== undefined || stopCommand6 !== undefined),
    closes,
    closeOnLogout: reader.parse('close_on_logout', parseBoolean, false),
    closeOnWrongKnock: reader.parse('close_on_wrong_knock', parseBoolean, false),
    trapAdjacent: reader.parse('trap_adjacent', parseBoolean, false),
    maxConnections: reader.parse('max_connections', (text) => parseCount(text, 1, 65_535)),
    startCommand,
    stopCommand,
    startCommand6,
    stopCommand6,
    commandTranslation: undefined,
    fleet: reader.parse('fleet', parseBoolean, true),
  };
  if (closes !== undefined && door.maxConnections !== undefined) reader.problem('max_connections', 'no max_connections on a door that opens nothing (it closes another)', String(door.maxConnections));
  if (closes !== undefined && openSteps !== undefined) reader.problem('open', 'no open = on a door that closes another', openSteps.length + ' ports');
  for (const key of reader.leftovers()) reportUnknown(reader, key, 'a door key');
  return { door, reader, openGiven: openSteps };
}

// sequence, one_time_sequences or a rotating door's keys: exactly one of them.
function readKnock(reader: SectionReader, baseDir: string, readFile: ReadTextFile, readSecret: ReadSecretFile): KnockSpec {
  const oneTimeFile = reader.text('one_time_sequences');
  const sequence = reader.parse('sequence', parseKnockSteps);
  const rotating = isRotatingDoor(reader);
  const given = [reader.has('sequence'), oneTimeFile !== undefined, rotating].filter(Boolean).length;
  if (given > 1) reader.problem('sequence', 'one of sequence, one_time_sequences or a rotating door (secret_file, port_range)', 'more than one');
  if (rotating) {
    const spec = readRotating(reader, baseDir, readSecret);
    return spec ?? { kind: 'static', sequence: [] };
  }
  if (oneTimeFile !== undefined) {
    const path = resolve(baseDir, oneTimeFile);
    return { kind: 'one-time', sequences: readOneTimeSequences(reader, path, readFile) ?? [], file: path };
  }
  if (sequence === undefined && !reader.has('sequence')) reader.problem('sequence', 'the knock sequence (e.g. 7000,8000,9000:udp)', '');
  return { kind: 'static', sequence: sequence ?? [] };
}

// knockd's start_command or its older name command (not both), checked for shell syntax.
function readCommand(reader: SectionReader, key: string, alias?: string): string | undefined {
  if (alias !== undefined && reader.has(key) && reader.has(alias)) reader.problem(alias, `${key} or ${alias}, not both`, 'both');
  const used = alias !== undefined && !reader.has(key) ? alias : key;
  const text = reader.text(used);
  if (alias !== undefined) reader.text(alias);
  if (text === undefined) return undefined;
  if (text === '') {
    // knockd runs nothing for an empty command; knockwatch has no empty command to record.
    reader.problem(used, 'a command; for knockd\'s empty value (run nothing) write /bin/true, or leave a _6 key out to run the IPv4 command for IPv6 too', '');
    return text;
  }
  const split = splitCommand(text);
  if (!split.ok) reader.problem(used, 'a command without shell syntax', `${text} (${split.reason})`);
  return text;
}

// A knockd command with neither stop_command nor a lifetime runs once: its grant lasts until
// closed. With a stop_command knockd waits cmd_timeout (10 s unless given).
function readLifetime(reader: SectionReader, hasStart: boolean, hasStop: boolean): number {
  const given = reader.parse('open_for', parseDuration) ?? reader.parse('cmd_timeout', parseDuration);
  if (given !== undefined) return given;
  if (reader.has('open_for') || reader.has('cmd_timeout')) return DEFAULTS.cmdTimeout;
  return hasStart && !hasStop ? 0 : DEFAULTS.cmdTimeout;
}

function readOneTimeSequences(reader: SectionReader, path: string, readFile: ReadTextFile): DoorStep[][] | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    reader.problem('one_time_sequences', 'a readable file of sequences, one per line', `${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    return undefined;
  }
  const sequences: DoorStep[][] = [];
  for (const [index, line] of text.split('\n').entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const parsed = parseKnockSteps(trimmed);
    if (parsed.ok) {
      sequences.push(parsed.value);
      continue;
    }
    // The line is a secret: the problem names its file, line and step, never its text.
    const said = parsed.unquoted ?? parsed;
    reader.problem('one_time_sequences', `${said.expected} on line ${index + 1} of ${path} (the line is not shown: one-time sequences are secret)`, said.found);
  }
  if (sequences.length === 0) reader.problem('one_time_sequences', `at least one sequence in ${path}`, 'none');
  return sequences;
}

function reportUnknown(reader: SectionReader, key: string, expected: string): void {
  reader.problem(key, expected, `unknown key ${reader.originalKey(key)}`);
}

function parseFirewall(text: string): Parsed<FirewallKind> {
  const lower = text.toLowerCase();
  return isFirewallKind(lower) ? { ok: true, value: lower } : { ok: false, expected: FIREWALL_KINDS.join(' | '), found: text };
}

function parseAddress(text: string): Parsed<string> {
  const address = normalizeAddress(text);
  return address === undefined ? { ok: false, expected: 'an IPv4 or IPv6 address', found: text } : { ok: true, value: address };
}

function parseLogPrefix(text: string): Parsed<string> {
  const prefix = text.replace(/^"(.*)"$/, '$1').trim();
  // It goes into nft and iptables-restore input inside double quotes: no " or \ in it.
  return /^[\x21-\x7e][\x20-\x7e]{0,27}$/.test(prefix) && !/["\\]/.test(prefix)
    ? { ok: true, value: prefix }
    : { ok: false, expected: 'a printable log prefix of at most 28 characters, without " or \\', found: text };
}

// A relative path would depend on the directory each command is started from.
export function parseSocketPath(text: string): Parsed<string> {
  // sun_path holds 107 bytes and a terminating NUL.
  return isAbsolute(text) && Buffer.byteLength(text) <= 107
    ? { ok: true, value: text }
    : { ok: false, expected: 'an absolute path of at most 107 bytes for a Unix socket', found: text };
}

function parseTimeZone(text: string): Parsed<string> {
  return isValidTimeZone(text) ? { ok: true, value: text } : { ok: false, expected: 'an IANA time zone such as UTC or Europe/Berlin', found: text };
}

// 0 would let no second step come at all.
function parseStepTimeout(text: string): Parsed<number> {
  const parsed = parseDuration(text);
  return parsed.ok && parsed.value === 0 ? { ok: false, expected: 'a duration above 0', found: text } : parsed;
}

function longestSequence(knock: KnockSpec): number {
  if (knock.kind === 'static') return knock.sequence.length;
  if (knock.kind === 'one-time') return Math.max(0, ...knock.sequences.map((sequence) => sequence.length));
  return knock.length;
}

function parseOrder(text: string): Parsed<'sequence' | 'any'> {
  const lower = text.toLowerCase();
  return lower === 'sequence' || lower === 'any' ? { ok: true, value: lower } : { ok: false, expected: 'sequence or any', found: text };
}
