import { deriveClientSequence } from './knock-derive.js';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import type { DoorStep } from '../config/types.js';
import { parseCount, parseDuration, parsePort } from '../config/parse-values.js';
import { formatStep } from '../doors/format-step.js';
import { defaultClientConfigPath, parseClientConfig, type ClientConfig, type ClientDoorEntry, type ClientHost } from './knock-client-config.js';
import { nodeKnockNet, type KnockNet, type Target } from './knock-net.js';
import { readClientSecret } from './knock-secret.js';
import { connectWithin, pipeThrough, sendSteps, type Sleep } from './knock-send.js';
import { KnockRefusal, looksLikeStep, parseKnockArgs, type RotatingClientDoor, type SequenceFor } from './knock-steps.js';
import { line, type Deps, type Output } from '../cli/output.js';
import { UsageError } from '../cli/usage-error.js';
import type { CliValues } from '../cli/values.js';

// What the knock command touches besides CliDeps; tests give their own, the real ones otherwise.
export interface KnockSeams {
  net?: KnockNet;
  sleep?: Sleep;
  // Rotating doors' steps; without it a rotating door is refused, never guessed.
  sequenceFor?: SequenceFor;
  // What --connect pipes (the process's stdin and stdout by default).
  stdio?: { input: Readable; output: NodeJS.WritableStream };
  // Whose secret files are accepted (the process's uid by default).
  uid?: number;
}

const DEFAULT_DELAY = 200;
const DEFAULT_WAIT = 5000;
// A --delay longer than this is most likely knockd's milliseconds given to --delay.
const MAX_DELAY = 60_000;

// `knockwatch knock HOST [DOOR | STEP...]`: 0 knocked (and, with --connect, connected
// and the connection over), 1 the port did not open or the network failed, 2 usage or config.
export async function runKnock(args: readonly string[], values: CliValues, deps: Deps & KnockSeams): Promise<number> {
  try {
    return await knock(args, values, deps);
  } catch (error) {
    if (!(error instanceof KnockRefusal)) throw error;
    line(deps.stderr, `knockwatch knock: ${error.message}`);
    return 2;
  }
}

async function knock(args: readonly string[], values: CliValues, deps: Deps & KnockSeams): Promise<number> {
  const net = deps.net ?? nodeKnockNet;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const options = readOptions(values);
  const [hostArg, ...rest] = args;
  if (hostArg === undefined || rest.length === 0) throw new UsageError('knock: expected HOST and a DOOR or STEP...');
  const host = loadClientConfig(values.config, deps.env)?.hosts.get(hostArg.toLowerCase());
  const door = pickDoor(hostArg, host, rest, values);
  // Whatever can be refused is refused before anything is sent.
  const given = door === undefined ? parseKnockArgs(rest, values.udp ? 'udp' : 'tcp') : door.kind === 'static' ? door.sequence : [];
  const rotating = door?.kind === 'rotating' ? prepareRotating(door, host?.name ?? hostArg, deps) : undefined;
  // Messages never mix with the bytes --connect pipes to stdout.
  const messages: Output = options.connect === undefined ? deps.stdout : deps.stderr;
  const say = (text: string): void => {
    if (values.verbose) line(messages, text);
  };

  const target = await resolveHost(net, host?.address ?? hostArg, options.family ?? host?.family);
  const source = options.source ?? host?.source;
  let local: string | undefined;
  if (source !== undefined) {
    if ((isIP(source) === 6 ? 6 : 4) !== target.family) throw new UsageError(`--source ${source}: expected an IPv${target.family} address like ${target.address}`);
    if (net.isLocalAddress(source)) local = source;
    else if (rotating?.door.bindSource) say(`${source} is not an address of this host: knocking from the usual address, deriving the sequence for ${source} (NAT).`);
    else if (options.source !== undefined) throw new KnockRefusal(`--source ${source} is not an address of this host (only a bind_source door takes a NAT's public address)`);
  }
  const steps = rotating === undefined ? given
    : rotating.sequenceFor(rotating.door, deps.clock.now(), rotating.door.bindSource ? source ?? await net.localAddressFor(target) : undefined);

  const delay = options.delay ?? host?.delay ?? DEFAULT_DELAY;
  await sendSteps(net, sleep, target, steps, delay, local, (step, index) => {
    say(`Knocked ${target.address} ${rotating !== undefined ? `step ${index + 1}/${steps.length} (${step.proto})` : formatStep(step)}.`);
  });
  if (options.connect === undefined) return 0;

  const connection = await connectWithin(net, sleep, () => deps.clock.now(), target, options.connect, local, options.wait);
  if (connection === undefined) {
    line(deps.stderr, `knockwatch knock: ${target.address} port ${options.connect} did not open within ${options.wait / 1000} s.`);
    return 1;
  }
  say(`Connected to ${target.address} port ${options.connect}.`);
  const stdio = deps.stdio ?? { input: process.stdin, output: process.stdout };
  return (await pipeThrough(connection, stdio.input, stdio.output)) ? 0 : 1;
}

interface KnockOptions {
  family: 4 | 6 | undefined;
  delay: number | undefined;
  source: string | undefined;
  connect: number | undefined;
  wait: number;
}

function readOptions(values: CliValues): KnockOptions {
  if (values.ipv4 && values.ipv6) throw new UsageError('knock: -4 and -6 exclude each other');
  if (values.delay !== undefined && values['delay-ms'] !== undefined) throw new UsageError('knock: --delay and -d exclude each other');
  if (values.source !== undefined && isIP(values.source) === 0) throw new UsageError(`--source: expected an IPv4 or IPv6 address, found "${values.source}"`);
  const connect = values.connect === undefined ? undefined : parsePort(values.connect);
  if (values.connect !== undefined && connect === undefined) throw new UsageError(`--connect: expected a port (1-65535), found "${values.connect}"`);
  return {
    family: values.ipv4 ? 4 : values.ipv6 ? 6 : undefined,
    delay: values.delay !== undefined ? readDuration('--delay', values.delay, MAX_DELAY, ' (knockd\'s -d takes milliseconds: -d 200)') : readDelayMs(values['delay-ms']),
    source: values.source,
    connect,
    wait: values.wait === undefined ? DEFAULT_WAIT : readDuration('--wait', values.wait, 3_600_000, ''),
  };
}

function readDuration(flag: string, text: string, max: number, hint: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new UsageError(`${flag}: expected ${parsed.expected}, found "${text}"`);
  if (parsed.value > max) throw new UsageError(`${flag}: expected at most ${max / 1000} s${hint}, found "${text}"`);
  return parsed.value;
}

function readDelayMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const parsed = parseCount(text, 0, MAX_DELAY);
  if (!parsed.ok) throw new UsageError(`-d: expected milliseconds, ${parsed.expected}, found "${text}"`);
  return parsed.value;
}

// The client config: --config FILE (which must exist), else the default one if there is one.
function loadClientConfig(given: string | undefined, env: Record<string, string | undefined>): ClientConfig | undefined {
  const path = given ?? defaultClientConfigPath(env);
  if (path === undefined || (given === undefined && !existsSync(path))) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KnockRefusal(`client config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseClientConfig(text, path, env.HOME);
}

// A rotating door with its secret, once it is sure its steps can be derived.
function prepareRotating(entry: Extract<ClientDoorEntry, { kind: 'rotating' }>, hostName: string, deps: Deps & KnockSeams): { door: RotatingClientDoor; sequenceFor: SequenceFor } {
  const sequenceFor = deps.sequenceFor ?? deriveClientSequence;
  return { door: { ...entry, secret: readClientSecret(entry.secretFile, deps.uid ?? process.getuid?.()) }, sequenceFor };
}

// The door named after HOST, or undefined when ports are given instead.
function pickDoor(hostArg: string, host: ClientHost | undefined, rest: readonly string[], values: CliValues): ClientDoorEntry | undefined {
  const [first = ''] = rest;
  if (looksLikeStep(first)) return undefined;
  if (rest.length > 1) throw new UsageError(`knock: expected one DOOR or only PORT[:tcp|udp] steps after ${hostArg}, found ${rest.join(' ')}`);
  if (values.udp) throw new UsageError('knock: -u makes PORT arguments UDP; a door has its own protocols');
  const door = host?.doors.get(first.toLowerCase());
  if (door !== undefined) return door;
  const known = host === undefined ? [] : [...host.doors.values()].map((entry) => entry.name);
  const where = values.config ?? 'the client config (~/.config/knockwatch/client.ini or --config FILE)';
  throw new KnockRefusal(`no door "${first}" for ${hostArg} in ${where}${known.length > 0 ? `; its doors: ${known.join(', ')}` : ''}`);
}

async function resolveHost(net: KnockNet, address: string, family: 4 | 6 | undefined): Promise<Target> {
  const literal = isIP(address);
  if (literal !== 0) {
    if (family !== undefined && family !== literal) throw new UsageError(`-${family}: ${address} is an IPv${literal} address`);
    return { address, family: literal === 6 ? 6 : 4 };
  }
  try {
    return await net.lookup(address, family);
  } catch (error) {
    throw new Error(`cannot resolve ${address}${family === undefined ? '' : ` as IPv${family}`}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
