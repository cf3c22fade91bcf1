import { createClient } from 'redis';
import type { FleetOptions } from '../config/fleet-options.js';
import type { LogEvent } from '../runtime/log-events.js';
import { encodeMessage, type FleetMessage } from './fleet-message.js';
import { fleetEvents } from './fleet-events.js';
import { groupPrefix, messageKey, streamKey } from './fleet-keys.js';

type Client = ReturnType<typeof createClient>;

export interface StreamEntry {
  id: string;
  text: unknown;
}

// Redis answers an ACL user it does not accept with one of these.
const REFUSED = /^(WRONGPASS|NOAUTH|NOPERM)\b/;
const SCAN_COUNT = '500';
// The longest wait between two connection attempts, in ms.
const MAX_DELAY = 5_000;
// The reader blocks on the stream for at most a second at a time (src/fleet/daemon-fleet.ts),
// so Redis answers it at least that often: silent this long, it is gone, even when no
// connection was reset (a network partition, a frozen server); it is closed and retried.
export const READER_SILENCE = 5_000;

// Waits between connection attempts: doubling from 100 ms up to `max`, with a little jitter
// so a group's hosts do not all come back in the same instant.
export function retryDelay(retries: number, max: number, jitter = Math.random()): number {
  return Math.round(Math.min(max, 100 * 2 ** Math.min(retries, 20)) * (0.9 + 0.2 * jitter));
}

// The connections to the group's Redis: one for commands, one that blocks on the stream.
// The client reconnects by itself with backoff; the link logs once when Redis is lost and
// once when it is back (not per attempt), and a refused user or password once, as an error.
// While it is down nothing is queued: publish() drops, the reader rebuilds when it is back.
export class RedisLink {
  private readonly commands: Client;
  private readonly reader: Client;
  private readonly prefix: string;
  private readonly stream: string;
  private state: 'connecting' | 'up' | 'down' | 'refused' = 'connecting';
  private waiting: (() => void)[] = [];
  private stopped = false;
  // Commands Redis refused (NOPERM), each logged once.
  private readonly refusedCommands = new Set<string>();

  constructor(private readonly fleet: FleetOptions, private readonly emit: (event: LogEvent) => void) {
    const { redis } = fleet;
    const reconnectStrategy = (retries: number): number | Error => (this.stopped ? new Error('stopped') : retryDelay(retries, MAX_DELAY));
    // TLS checks the certificate against the URL's host name (node's default servername).
    const socket = redis.tls ? { host: redis.host, port: redis.port, tls: true as const, ...(redis.ca === undefined ? {} : { ca: redis.ca }), reconnectStrategy }
      : { host: redis.host, port: redis.port, reconnectStrategy };
    this.commands = createClient({
      socket, database: redis.database, disableOfflineQueue: true, disableClientInfo: true,
      ...(redis.username === undefined ? {} : { username: redis.username }),
      ...(fleet.password === undefined ? {} : { password: fleet.password.reveal().toString('utf8') }),
    });
    this.reader = this.commands.duplicate({ socket: { ...socket, socketTimeout: READER_SILENCE } });
    this.prefix = groupPrefix(fleet.group);
    this.stream = streamKey(fleet.group);
    this.commands.on('error', (error: Error) => this.failed(error));
    this.commands.on('ready', () => this.ready());
    // Either connection's loss is the link's (said once); it is up again when both are.
    this.reader.on('error', (error: Error) => this.failed(error));
    this.reader.on('ready', () => this.ready());
  }

  get up(): boolean {
    return this.state === 'up' && this.reader.isReady;
  }

  // Connects in the background: the daemon never waits for Redis.
  start(): void {
    for (const client of [this.commands, this.reader]) client.connect().catch(() => undefined);
  }

  // Resolves once both connections are ready, the link is stopped, or after `maxWait` ms.
  async whenUp(maxWait: number): Promise<void> {
    if (this.stopped || this.up) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, maxWait);
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // Stores a grant or ban with its lifetime (or deletes it for a close or unban) and
  // announces it on the group's stream. Dropped while Redis is down: the reconnect
  // publishes this host's live grants and bans again.
  async publish(message: FleetMessage): Promise<boolean> {
    if (!this.up) return false;
    const key = messageKey(this.fleet.group, message);
    const text = encodeMessage(message);
    const until = message.kind === 'grant' ? message.expires : message.kind === 'ban' ? message.until : undefined;
    const store = message.kind === 'close' || message.kind === 'unban' ? ['DEL', key]
      : until === null || until === undefined ? ['SET', key, text] : ['SET', key, text, 'PXAT', String(Math.round(until))];
    try {
      await Promise.all([
        this.commands.sendCommand(store),
        this.commands.sendCommand(['XADD', this.stream, 'MAXLEN', '~', String(this.fleet.streamLength), '*', 'm', text]),
      ]);
      return true;
    } catch (error) {
      this.commandFailed(error as Error);
      return false;
    }
  }

  // A command failed: when Redis refused it (the ACL user lacks it), says so once per
  // command, as an error, and answers true; a lost connection is the client's to report.
  commandFailed(error: Error): boolean {
    if (!REFUSED.test(error.message)) return false;
    if (!this.refusedCommands.has(error.message)) this.emit(fleetEvents.commandRefused(this.fleet, error.message));
    this.refusedCommands.add(error.message);
    return true;
  }

  // The stream's last id now ('0-0' when it is empty): where reading goes on after a snapshot.
  async tip(): Promise<string> {
    const reply = await this.reader.sendCommand(['XREVRANGE', this.stream, '+', '-', 'COUNT', '1']);
    const first = Array.isArray(reply) ? reply[0] : undefined;
    return Array.isArray(first) && typeof first[0] === 'string' ? first[0] : '0-0';
  }

  // The values of every grant and ban key of the group.
  async snapshot(): Promise<unknown[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const reply = await this.reader.sendCommand(['SCAN', cursor, 'MATCH', `${this.prefix}*`, 'COUNT', SCAN_COUNT]) as [string, string[]];
      cursor = String(reply[0]);
      for (const key of reply[1]) if (key !== this.stream) keys.push(String(key));
    } while (cursor !== '0');
    const values: unknown[] = [];
    for (let at = 0; at < keys.length; at += 500) {
      const reply = await this.reader.sendCommand(['MGET', ...keys.slice(at, at + 500)]);
      if (Array.isArray(reply)) values.push(...reply.filter((value) => value !== null));
    }
    return values;
  }

  // Entries after `after`, waiting up to `blockMs` for the first.
  async read(after: string, blockMs: number): Promise<StreamEntry[]> {
    const reply: unknown = await this.reader.sendCommand(['XREAD', 'COUNT', '100', 'BLOCK', String(blockMs), 'STREAMS', this.stream, after]);
    if (reply === null || typeof reply !== 'object') return [];
    // RESP2 answers [[stream, entries]], RESP3 { stream: entries }.
    const entries: unknown = Array.isArray(reply) ? (reply[0] as unknown[] | undefined)?.[1] : (reply as Record<string, unknown>)[this.stream];
    if (!Array.isArray(entries)) return [];
    return entries.map((entry) => {
      const [id, fields] = entry as [string, unknown[]];
      return { id: String(id), text: Array.isArray(fields) && fields[0] === 'm' ? fields[1] : undefined };
    });
  }

  stop(): void {
    this.stopped = true;
    this.wake();
    for (const client of [this.commands, this.reader]) if (client.isOpen) client.destroy();
  }

  private ready(): void {
    if (!this.commands.isReady || !this.reader.isReady) return;
    if (this.state === 'down' || this.state === 'refused') this.emit(fleetEvents.back(this.fleet));
    else this.emit(fleetEvents.connected(this.fleet));
    this.state = 'up';
    this.wake();
  }

  private failed(error: Error): void {
    if (this.stopped) return;
    if (REFUSED.test(error.message)) {
      if (this.state !== 'refused') this.emit(fleetEvents.refused(this.fleet, error.message));
      this.state = 'refused';
      return;
    }
    if (this.state === 'up' || this.state === 'connecting') this.emit(fleetEvents.lost(this.fleet, error.message));
    if (this.state !== 'refused') this.state = 'down';
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
