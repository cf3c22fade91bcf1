import { lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { normalizeAddress } from '../net/address.js';
import type { ControlResult, ControlTarget } from './control-types.js';

// The running daemon answers `knockwatch status`, `unban` and `close` here: one JSON request
// per line, one JSON answer per line. Anything a client sends is treated as hostile.
//
// Who may ask: Node has no SO_PEERCRED API, so the peer's uid cannot be read. The socket is
// created with mode 0600 (umask set around the bind, so there is no moment it is wider),
// owned by the daemon's user (root under systemd): connecting needs write permission on the
// file, so any other user gets EACCES from the kernel before a byte is read.

export interface ControlServerOptions {
  // Longest request line in bytes; a longer one gets an error answer and the connection ends.
  maxLine?: number;
  maxConnections?: number;
  // A connection that sends nothing for this long is closed (ms).
  idleTimeout?: number;
}

export interface ControlServer {
  readonly path: string;
  // Stops answering and removes the socket file.
  close(): Promise<void>;
}

// Another process (a second knockwatch) answers on the socket: starting must not take it over.
export class ControlSocketInUse extends Error {
  constructor(readonly path: string) {
    super(`another knockwatch answers on ${path}; stop it first (two daemons would fight over the firewall)`);
  }
}

const MAX_LINE = 4096;
const MAX_CONNECTIONS = 4;
const IDLE_TIMEOUT = 5000;
const PROBE_TIMEOUT = 1000;
const DOOR_TEXT = /^[\x20-\x7e]{1,48}$/;

export async function startControlServer(target: ControlTarget, path: string, options: ControlServerOptions = {}): Promise<ControlServer> {
  const limits = { maxLine: options.maxLine ?? MAX_LINE, maxConnections: options.maxConnections ?? MAX_CONNECTIONS, idleTimeout: options.idleTimeout ?? IDLE_TIMEOUT };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await checkDirectory(dirname(path));
  await removeStaleSocket(path);
  const connections = new Set<Socket>();
  // Half-open: a client that sends its request and then EOF (nc -N, socat) still gets its answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    if (connections.size >= limits.maxConnections) {
      socket.on('error', () => undefined);
      // Gone once the answer is written: a client that keeps its end open holds nothing.
      socket.write(answerLine(failure(`busy: at most ${limits.maxConnections} connections at a time`)));
      socket.destroySoon();
      return;
    }
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    serveConnection(socket, target, limits);
  });
  await listenPrivately(server, path);
  const { ino } = await lstat(path);
  return {
    path,
    async close() {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Only our own socket file: a daemon started since may have replaced it.
      const now = await lstat(path).catch(() => undefined);
      if (now?.isSocket() && now.ino === ino) await unlink(path).catch(() => undefined);
    },
  };
}

// True when a process accepts connections on path (a running daemon).
export async function controlSocketAnswers(path: string): Promise<boolean> {
  return await new Promise<boolean>((resolve, reject) => {
    const socket = connect(path);
    socket.setTimeout(PROBE_TIMEOUT, () => {
      // Accepted into the backlog but never served: something still holds it.
      socket.destroy();
      resolve(true);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else reject(new Error(`cannot tell whether ${path} is in use: ${error.message}`));
    });
  });
}

// Only the daemon's own user may create or remove files where the socket lives: anyone else
// could put a socket of their own there first, receive the admin's requests and answer them.
async function checkDirectory(directory: string): Promise<void> {
  const stats = await lstat(directory);
  if (!stats.isDirectory()) throw new Error(`${directory} is not a directory; not putting the control socket there`);
  const euid = process.geteuid?.() ?? stats.uid;
  if (stats.uid !== euid || (stats.mode & 0o022) !== 0) {
    throw new Error(`${directory} can be written by users other than knockwatch's; put control_socket in a directory only root can write (the default /run/knockwatch is)`);
  }
}

// A socket left by a daemon that died goes; anything else at the path stays and is reported.
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats === undefined) return;
  if (!stats.isSocket()) throw new Error(`${path} exists and is not a socket; not replacing it`);
  if (await controlSocketAnswers(path)) throw new ControlSocketInUse(path);
  await unlink(path);
}

async function listenPrivately(server: ReturnType<typeof createServer>, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    // The bind (and so the file's creation) happens inside listen(), synchronously.
    const previous = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(previous);
    }
  });
}

function serveConnection(socket: Socket, target: ControlTarget, limits: { maxLine: number; idleTimeout: number }): void {
  let buffered: Buffer = Buffer.alloc(0);
  let busy = false;
  let ended = false;
  // The client sent EOF: answer what it asked, then end.
  let clientDone = false;
  socket.on('error', () => undefined);
  // Idle means the client is silent while nothing is being answered: a request waiting
  // behind a reload's ruleset install is not idle.
  socket.setTimeout(limits.idleTimeout, () => {
    if (!busy) socket.destroy();
  });
  const refuse = (error: string): void => {
    ended = true;
    socket.write(answerLine(failure(error)));
    socket.destroySoon();
  };
  // One request at a time: the socket is paused while the daemon answers, so a client that
  // sends faster than it reads cannot queue work or memory.
  const pump = (): void => {
    while (!busy && !ended) {
      const end = buffered.indexOf(10);
      if (end === -1) {
        if (buffered.length > limits.maxLine) refuse(`request longer than ${limits.maxLine} bytes`);
        else if (clientDone) socket.end();
        return;
      }
      if (end > limits.maxLine) return refuse(`request longer than ${limits.maxLine} bytes`);
      const text = buffered.subarray(0, end).toString('utf8');
      buffered = buffered.subarray(end + 1);
      busy = true;
      socket.pause();
      void answerRequest(target, text).then((answer) => {
        busy = false;
        if (socket.destroyed) return;
        socket.write(answerLine(answer));
        socket.resume();
        pump();
      });
    }
  };
  socket.on('end', () => {
    clientDone = true;
    pump();
  });
  socket.on('data', (chunk: Buffer) => {
    if (ended) return;
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    pump();
  });
}

async function answerRequest(target: ControlTarget, text: string): Promise<unknown> {
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch {
    return failure('not JSON: expected one JSON object per line, such as {"op":"status"}');
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return failure('expected a JSON object such as {"op":"status"}');
  const fields = new Map<string, unknown>(Object.entries(request));
  const op = fields.get('op');
  const allowed = op === 'status' ? ['op'] : op === 'unban' ? ['op', 'src'] : op === 'close' ? ['op', 'src', 'door'] : undefined;
  if (allowed === undefined) return failure(`"op": expected status, unban or close, found ${shown(op)}`);
  const extra = [...fields.keys()].find((key) => !allowed.includes(key));
  if (extra !== undefined) return failure(`${op}: unknown field ${shown(extra)} (expected ${allowed.join(', ')})`);
  try {
    if (op === 'status') return target.status();
    const raw = fields.get('src');
    const src = typeof raw === 'string' ? normalizeAddress(raw) : undefined;
    if (src === undefined) return failure(`"src": expected an IPv4 or IPv6 address, found ${shown(raw)}`);
    if (op === 'unban') return await target.unban(src);
    const door = fields.get('door');
    if (door !== undefined && (typeof door !== 'string' || !DOOR_TEXT.test(door))) return failure(`"door": expected a door name, found ${shown(door)}`);
    return await target.close(src, door);
  } catch (error) {
    return failure(`the daemon could not answer: ${(error as Error).message}`);
  }
}

function failure(error: string): ControlResult {
  return { ok: false, error };
}

// What the client sent, quoted and shortened, for an error answer.
function shown(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

function answerLine(answer: unknown): string {
  return `${JSON.stringify(answer)}\n`;
}
