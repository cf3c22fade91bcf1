import { existsSync } from 'node:fs';
import { DEFAULT_CONTROL_SOCKET } from '../config/defaults.js';
import { readControlSocket } from '../config/control-socket-option.js';
import { normalizeAddress } from '../net/address.js';
import type { StatusReport } from '../runtime/control-types.js';
import { socketControlClient } from './control-client.js';
import { formatStatus } from './format-status.js';
import { DEFAULT_CONFIG } from './inputs.js';
import type { CliValues } from './values.js';
import { line, type CliDeps } from './output.js';
import { UsageError } from './usage-error.js';

// `knockwatch status [--json] [-v]`: what the running daemon is doing.
export async function runStatus(rest: readonly string[], values: CliValues, deps: CliDeps): Promise<number> {
  if (rest.length > 0) throw new UsageError(`status takes no arguments (found "${rest[0]}")`);
  const path = controlSocketPath(values);
  const answer = await ask(path, { op: 'status' }, deps);
  if (!answer.ok) return answer.code;
  if (!isStatusReport(answer.value)) return fail(deps, describeRefusal(answer.value, path));
  if (values.json === true) line(deps.stdout, JSON.stringify(answer.value));
  else for (const text of formatStatus(answer.value, values.verbose === true)) line(deps.stdout, text);
  return 0;
}

// `knockwatch unban ADDR`: lifts ADDR's ban in the running daemon and its state file.
export async function runUnban(rest: readonly string[], values: CliValues, deps: CliDeps): Promise<number> {
  if (rest.length !== 1) throw new UsageError(`unban takes one address (found ${rest.length} arguments)`);
  return await act({ op: 'unban', src: addressArgument(rest[0] ?? '') }, values, deps);
}

// `knockwatch close ADDR [DOOR]`: closes ADDR's grant on DOOR, or on every door.
export async function runClose(rest: readonly string[], values: CliValues, deps: CliDeps): Promise<number> {
  if (rest.length < 1 || rest.length > 2) throw new UsageError(`close takes an address and optionally a door (found ${rest.length} arguments)`);
  const src = addressArgument(rest[0] ?? '');
  return await act(rest[1] === undefined ? { op: 'close', src } : { op: 'close', src, door: rest[1] }, values, deps);
}

async function act(message: object, values: CliValues, deps: CliDeps): Promise<number> {
  const path = controlSocketPath(values);
  const answer = await ask(path, message, deps);
  if (!answer.ok) return answer.code;
  const result = answer.value;
  if (typeof result === 'object' && result !== null && 'ok' in result && result.ok === true && 'message' in result && typeof result.message === 'string') {
    line(deps.stdout, result.message);
    return 0;
  }
  return fail(deps, describeRefusal(result, path));
}

// --control-socket, else control_socket of --config, else of the default config when this
// user can read it (a non-root user often cannot: the socket would refuse them anyway),
// else the default path.
function controlSocketPath(values: CliValues): string {
  if (values['control-socket'] !== undefined) return values['control-socket'];
  if (values.config !== undefined) return readControlSocket(values.config);
  if (existsSync(DEFAULT_CONFIG)) {
    try {
      return readControlSocket(DEFAULT_CONFIG);
    } catch {
      return DEFAULT_CONTROL_SOCKET;
    }
  }
  return DEFAULT_CONTROL_SOCKET;
}

type Answer = { ok: true; value: unknown } | { ok: false; code: number };

// One request; a daemon that cannot be reached is one line on stderr and exit 1.
async function ask(path: string, message: object, deps: CliDeps): Promise<Answer> {
  // unban and close wait for the firewall, which may wait behind a reload's ruleset install.
  const client = deps.control ?? socketControlClient(path, 'op' in message && message.op === 'status' ? 5000 : 30_000);
  try {
    return { ok: true, value: await client.request(message) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return { ok: false, code: fail(deps, `knockwatch is not running (no daemon answers on ${path})`) };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, code: fail(deps, `knockwatch: permission denied on ${path}: run as root`) };
    return { ok: false, code: fail(deps, `knockwatch: ${(error as Error).message}`) };
  }
}

function fail(deps: CliDeps, text: string): number {
  line(deps.stderr, text);
  return 1;
}

function describeRefusal(answer: unknown, path: string): string {
  if (typeof answer === 'object' && answer !== null && 'error' in answer && typeof answer.error === 'string') return `knockwatch: ${answer.error}`;
  return `knockwatch: unexpected answer from ${path}`;
}

function addressArgument(text: string): string {
  const address = normalizeAddress(text);
  if (address === undefined) throw new UsageError(`"${text.slice(0, 64)}" is not an IPv4 or IPv6 address`);
  return address;
}

// Enough of the shape to format it; the daemon behind a root-only socket is trusted.
function isStatusReport(value: unknown): value is StatusReport {
  return typeof value === 'object' && value !== null && 'firewall' in value && 'sources' in value && Array.isArray(value.sources) && 'pipeline' in value;
}
