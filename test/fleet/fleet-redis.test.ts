import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/format-status.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { ADMIN_PASSWORD, eventually, FLEET_PASSWORD, TestRedis } from './redis-server.js';

// A real redis-server per test (and openssl for the TLS one); skipped without them, except in CI.
const missing = missingPrerequisites(['redis-server', 'openssl'], false);
explainSkip('fleet tests against redis-server', missing);

const filter = loadFilterFile(builtinFilterPath('netfilter'));
const authFilter = loadFilterFile(builtinFilterPath('sshd'));
const noCommands: CommandRunner = { run: async () => ({ exitCode: 1, stdout: '', stderr: '', failed: true, reason: 'no commands in this test' }) };
const SRC = '203.0.113.7';

function config(redisUrl: string, name: string, passwordFile: string, extra = '', openSSH = ''): string {
  return `[options]
firewall = dry-run
log_prefix = KNOCK
whitelist = 192.0.2.0/24
maxretry = 2
bantime = 600
[openSSH]
sequence = 7000,8000,9000
seq_timeout = 5
open_for = 30
${openSSH}
[closeSSH]
sequence = 9000,8000,7000
closes = openSSH
[local]
sequence = 6000,6001
open_for = 30
fleet = no
[fleet]
redis = ${redisUrl}
redis_password_file = ${passwordFile}
group = web
name = ${name}
${extra}`;
}

interface Host {
  name: string;
  dir: string;
  daemon: Daemon;
  messages: string[];
  record: () => string[];
  knock: (ports: readonly number[], src?: string) => Promise<void>;
  failLogins: (count: number, src: string) => Promise<void>;
  // sshd lines (pid, message) written to the auth log now.
  sshd: (lines: readonly (readonly [number, string])[]) => Promise<void>;
  // Moves this host's clock and lets it act on it.
  advance: (ms: number) => Promise<void>;
  fleetLog: () => string[];
}

const dirs: string[] = [];
const daemons: Daemon[] = [];
let redis: TestRedis;
let clockNow = Date.now();

// `dir`: a host started again (a restart after a crash): its logs, state file and record kept.
async function host(name: string, options: { password?: string; fleet?: string; openSSH?: string; dir?: string } = {}): Promise<Host> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `kw-fleet-${name}-`));
  if (options.dir === undefined) dirs.push(dir);
  const log = join(dir, 'kern.log');
  const authLog = join(dir, 'auth.log');
  if (options.dir === undefined) writeFileSync(log, '');
  if (options.dir === undefined) writeFileSync(authLog, '');
  writeFileSync(join(dir, 'redis.pw'), `${options.password ?? FLEET_PASSWORD}\n`, { mode: 0o600 });
  const configPath = join(dir, 'knockwatch.ini');
  writeFileSync(configPath, config(redis.url, name, join(dir, 'redis.pw'), options.fleet, options.openSSH));
  const messages: string[] = [];
  let offset = 0;
  const daemon = new Daemon(
    { configPath, kernLog: log, authLog, stateFile: join(dir, 'state.json'), dryRunFile: join(dir, 'record') },
    { clock: { now: () => clockNow + offset }, runner: noCommands, filter, authFilter, logger: { log: (level, message) => messages.push(`${level} ${message}`) } },
    loadConfigFile(configPath),
  );
  daemons.push(daemon);
  await daemon.start();
  const stamp = (at: number): string => new Date(at).toISOString().replace('Z', '000+00:00');
  const settle = async (): Promise<void> => {
    daemon.poll();
    await daemon.settle();
  };
  return {
    name, daemon, messages, dir,
    record: () => (existsSync(join(dir, 'record')) ? readFileSync(join(dir, 'record'), 'utf8').trim().split('\n') : []),
    knock: async (ports, src = SRC) => {
      const at = clockNow + offset;
      appendFileSync(log, ports.map((port, index) => `${stamp(at - 1000 + index * 100)} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${40000 + index} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 \n`).join(''));
      await settle();
    },
    failLogins: async (count, src) => {
      const at = clockNow + offset;
      for (let i = 0; i < count; i++) appendFileSync(authLog, `${stamp(at - 1000 + i * 10)} gate sshd[${700 + i}]: Failed password for root from ${src} port ${50000 + i} ssh2\n`);
      await settle();
    },
    sshd: async (lines) => {
      appendFileSync(authLog, lines.map(([pid, message]) => `${stamp(clockNow + offset)} gate sshd[${pid}]: ${message}\n`).join(''));
      await settle();
    },
    advance: async (ms) => {
      offset += ms;
      await settle();
    },
    fleetLog: () => messages.filter((message) => message.includes('Fleet:')),
  };
}

// A client of the test's own (an admin user) to look at and write into the group's keys.
async function inspector() {
  const client = createClient({ socket: { host: '127.0.0.1', port: redis.port, reconnectStrategy: false }, username: 'admin', password: ADMIN_PASSWORD, disableClientInfo: true });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function fleetKind(line: string): string {
  const kind = ['connected', 'unreachable', 'is back', 'resynchronised', 'refused'].find((word) => line.includes(word)) ?? line;
  return `${line.split(' ')[0] ?? ''} ${kind.replace('is back', 'back')}`;
}

const connected = async (...hosts: Host[]): Promise<boolean> =>
  await eventually(() => hosts.every((h) => h.messages.some((message) => message.includes('Fleet: resynchronised'))));

describe.skipIf(missing.length > 0)('fleet over a real redis-server (ACL user and password)', { timeout: 30_000 }, () => {
  // Each test its own redis-server (killed after it) and its own hosts.
  beforeEach(async () => {
    clockNow = Date.now();
    redis = new TestRedis();
    await redis.start();
  });

  afterEach(async () => {
    for (const daemon of daemons.splice(0)) daemon.halt();
    await redis.remove();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a knock on A opens A and B; B tags it remote; the key lives as long as the grant', async () => {
    const [a, b] = [await host('a'), await host('b')];
    expect(await connected(a, b)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    expect(await eventually(() => b.record().includes(`+${SRC} openSSH`))).toBe(true);
    const grantA = a.daemon.grants()[0];
    expect([grantA?.origin, b.daemon.grants().map((grant) => [grant.src, grant.door, grant.origin, grant.expires])]).toEqual([undefined, [[SRC, 'openSSH', 'a', grantA?.expires]]]);
    const status = formatStatus(b.daemon.status(), false);
    expect(status.filter((line) => line.includes(SRC) || line.startsWith('fleet:'))).toEqual([
      `fleet: group web as b, connected to ${redis.url}; from other hosts: 1 applied, 0 ignored, 0 refused`,
      expect.stringMatching(/^ {2}203\.0\.113\.7 {2}openSSH {2}22\/tcp {2}expires in 29 s \(remote, from a\)$/),
    ]);
    const client = await inspector();
    const key = `knockwatch:web:grant:openSSH/${SRC}`;
    expect(JSON.parse(String(await client.sendCommand(['GET', key])))).toEqual({ kind: 'grant', src: SRC, door: 'openSSH', expires: grantA?.expires, origin: 'a' });
    expect(await client.sendCommand(['PEXPIRETIME', key])).toEqual(grantA?.expires);
    const [, keys] = await client.sendCommand(['SCAN', '0', 'MATCH', 'knockwatch:web:*', 'COUNT', '100']) as unknown as [string, string[]];
    expect([...keys].sort()).toEqual([key, 'knockwatch:web:stream']);
    // B does not announce it again: one message on the stream, A's.
    await b.advance(0);
    const entries = await client.sendCommand(['XRANGE', 'knockwatch:web:stream', '-', '+']) as unknown as [string, string[]][];
    client.destroy();
    expect(entries.map(([, fields]) => (JSON.parse(fields[1] ?? '') as { origin: string }).origin)).toEqual(['a']);
  });

  it('the grant expires on both, each on its own clock', async () => {
    const [a, b] = [await host('a'), await host('b')];
    expect(await connected(a, b)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    expect(await eventually(() => b.daemon.grants().length === 1)).toBe(true);
    await a.advance(31_000);
    await b.advance(31_000);
    expect([a.daemon.grants(), b.daemon.grants()]).toEqual([[], []]);
    expect([a.record().at(-1), b.record().at(-1)]).toEqual([`-${SRC} openSSH`, `-${SRC} openSSH`]);
  });

  it('a close door on A closes B\'s grant and deletes the key; a fleet = no door stays local', async () => {
    const [a, b] = [await host('a'), await host('b')];
    expect(await connected(a, b)).toBe(true);
    await a.knock([6000, 6001], '198.51.100.9');
    await a.knock([7000, 8000, 9000]);
    expect(await eventually(() => b.daemon.grants().length === 1)).toBe(true);
    await a.advance(10_000);
    await a.knock([9000, 8000, 7000]);
    expect(await eventually(() => b.daemon.grants().length === 0)).toBe(true);
    expect(b.record().filter((line) => line.includes(SRC) || line.includes('198.51.100.9'))).toEqual([`+${SRC} openSSH`, `-${SRC} openSSH`]);
    expect(a.daemon.grants().map((grant) => grant.door)).toEqual(['local']);
    const client = await inspector();
    const [, keys] = await client.sendCommand(['SCAN', '0', 'MATCH', 'knockwatch:web:*', 'COUNT', '100']) as unknown as [string, string[]];
    client.destroy();
    expect([...keys]).toEqual(['knockwatch:web:stream']);
  });

  it('a ban on A bans the address on B (tagged remote, its grants revoked); B\'s own ban wins over a remote grant', async () => {
    const [a, b] = [await host('a'), await host('b')];
    expect(await connected(a, b)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    expect(await eventually(() => b.daemon.grants().length === 1)).toBe(true);
    await a.failLogins(2, SRC);
    expect(await eventually(() => b.daemon.status().pipeline.bans.length === 1)).toBe(true);
    expect(b.daemon.status().pipeline.bans.map((ban) => [ban.src, ban.origin])).toEqual([[SRC, 'a']]);
    expect(await eventually(() => b.record().includes(`!${SRC}`) && b.daemon.grants().length === 0)).toBe(true);
    // One line for the ban, in its own words: B counted no failed logins.
    const until = new Date(b.daemon.status().pipeline.bans[0]?.until ?? 0).toISOString();
    expect(b.messages.filter((line) => line.includes(SRC) && /ban/i.test(line))).toEqual([`notice Banned ${SRC} until ${until}: banned by fleet host a.`]);
    // B bans 198.51.100.20 itself; A's grant for it is not applied on B.
    await b.failLogins(2, '198.51.100.20');
    await a.knock([7000, 8000, 9000], '198.51.100.20');
    expect(await eventually(() => a.daemon.grants().some((grant) => grant.src === '198.51.100.20'))).toBe(true);
    await eventually(() => b.daemon.status().pipeline.bans.some((ban) => ban.src === '198.51.100.20' && ban.origin === 'a'), 500);
    expect(b.daemon.grants()).toEqual([]);
  });

  it('refuses and counts bad messages, applies none of them', async () => {
    const b = await host('b');
    expect(await connected(b)).toBe(true);
    const client = await inspector();
    const far = clockNow + 3_600_000;
    const bad = [
      '{"kind":"grant","src":"203.0.113.7","door":"openSSH","expires":"soon","origin":"a"}',
      `{"kind":"grant","src":"203.0.113.777","door":"openSSH","expires":${clockNow + 10_000},"origin":"a"}`,
      `{"kind":"grant","src":"203.0.113.7","door":"openSSH","expires":${far},"origin":"a"}`,
      `{"kind":"grant","src":"203.0.113.7","door":"local","expires":${clockNow + 10_000},"origin":"a"}`,
      `{"kind":"grant","src":"203.0.113.7","door":"nope","expires":${clockNow + 10_000},"origin":"a"}`,
      `{"kind":"ban","src":"203.0.113.7","until":${clockNow + 30 * 86_400_000},"origin":"a"}`,
      'not json',
    ];
    for (const text of bad) await client.sendCommand(['XADD', 'knockwatch:web:stream', '*', 'm', text]);
    client.destroy();
    expect(await eventually(() => b.fleetLog().filter((line) => line.includes('refused a message')).length === bad.length)).toBe(true);
    expect(b.fleetLog().filter((line) => line.includes('refused a message')).map((line) => line.replace(/^warning Fleet: refused a message: /, ''))).toEqual([
      'a grant without a time it ends.', 'an invalid address.', 'a grant longer than the door\'s open_for.', 'a door kept local here (fleet = no).',
      'a door this host does not have.', 'a ban longer than bantime_max.', 'not JSON.',
    ]);
    await b.advance(0);
    expect([b.daemon.grants(), b.daemon.status().pipeline.bans, b.record()]).toEqual([[], [], ['start 0']]);
    expect(b.daemon.status().fleet).toMatchObject({ applied: 0, refused: bad.length });
  });

  it('past the first 20 refusals, sums them up instead of logging each', async () => {
    const b = await host('b');
    expect(await connected(b)).toBe(true);
    const client = await inspector();
    for (let i = 0; i < 23; i++) await client.sendCommand(['XADD', 'knockwatch:web:stream', '*', 'm', i < 21 ? 'not json' : '{"kind":"unban","src":"1.2.3.4.5","origin":"a"}']);
    client.destroy();
    expect(await eventually(() => b.fleetLog().some((line) => line.includes('summed up')))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(b.fleetLog().some((line) => line.includes('more messages'))).toBe(false);
    // A minute later (on the host's clock), what came after the first 20 in one line.
    await b.advance(60_000);
    expect(await eventually(() => b.fleetLog().some((line) => line.includes('more messages')))).toBe(true);
    expect(b.fleetLog().filter((line) => line.includes('refused'))).toEqual([
      ...Array.from({ length: 19 }, () => 'warning Fleet: refused a message: not JSON.'),
      'warning Fleet: refused a message: not JSON (further refusals are summed up once a minute).',
      'warning Fleet: refused 3 more messages: not JSON (1), an invalid address (2).',
    ]);
  });

  it('a command the ACL user lacks: one clear error per command, the host goes on alone', async () => {
    await redis.stop();
    redis.acl = redis.acl.replace(' +xadd', '');
    await redis.start();
    const a = await host('a');
    expect(await connected(a)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    await a.advance(1000);
    await a.knock([7000, 8000, 9000], '203.0.113.8');
    expect(await eventually(() => a.fleetLog().some((line) => line.includes('refused a command')))).toBe(true);
    await a.advance(0);
    expect(a.fleetLog().filter((line) => line.includes('refused a command'))).toEqual([
      expect.stringMatching(/^error Fleet: Redis redis:\/\/knockwatch@127\.0\.0\.1:\d+ \(group web\) refused a command \(NOPERM[^)]*'xadd'[^)]*\): the ACL user needs \+set \+del \+xadd \+xread \+xrevrange \+scan \+mget on ~knockwatch:web:\*\.$/),
    ]);
    expect(a.daemon.grants().map((grant) => grant.src)).toEqual([SRC, '203.0.113.8']);
  });

  it('a reload (SIGHUP) keeps the remote grant remote and rebuilds from the keys', async () => {
    const [a, b] = [await host('a'), await host('b')];
    expect(await connected(a, b)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    expect(await eventually(() => b.daemon.grants().length === 1)).toBe(true);
    expect(await b.daemon.reload()).toBe(true);
    expect(await eventually(() => b.fleetLog().filter((line) => line.includes('resynchronised')).length === 2)).toBe(true);
    expect(b.daemon.grants().map((grant) => [grant.src, grant.origin])).toEqual([[SRC, 'a']]);
  });

  it('a logout ends the grant only where the session was, also when that host rebuilds (reload) while the group\'s key lives', async () => {
    const [a, b] = [await host('a', { openSSH: 'close_on_logout = yes' }), await host('b')];
    expect(await connected(a, b)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    expect(await eventually(() => b.daemon.grants().length === 1)).toBe(true);
    await a.sshd([[501, `Accepted publickey for alice from ${SRC} port 50000 ssh2`], [501, 'pam_unix(sshd:session): session closed for user alice']]);
    expect(a.daemon.grants()).toEqual([]);
    expect(await a.daemon.reload()).toBe(true);
    expect(await eventually(() => a.fleetLog().filter((line) => line.includes('resynchronised')).length === 2)).toBe(true);
    // A's next message comes after anything its rebuild sent: B has read that too once it has this.
    await a.knock([7000, 8000, 9000], '198.51.100.50');
    expect(await eventually(() => b.daemon.grants().length === 2)).toBe(true);
    expect(b.daemon.grants().map((grant) => [grant.src, grant.origin])).toEqual([[SRC, 'a'], ['198.51.100.50', 'a']]);
    const client = await inspector();
    const stored = await client.sendCommand(['GET', `knockwatch:web:grant:openSSH/${SRC}`]);
    client.destroy();
    expect(JSON.parse(String(stored))).toMatchObject({ kind: 'grant', src: SRC, origin: 'a' });
  });

  it('a restart keeps a remote grant remote: ended when its key went meanwhile, kept while it is still there, never announced as its own', async () => {
    const [a, b] = [await host('a'), await host('b')];
    expect(await connected(a, b)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    await a.knock([7000, 8000, 9000], '198.51.100.50');
    expect(await eventually(() => b.daemon.grants().length === 2)).toBe(true);
    await b.advance(1000);
    b.daemon.halt();
    // While B is down, A's close door ends one of the two: its key is gone.
    await a.advance(10_000);
    await a.knock([9000, 8000, 7000]);
    expect(a.daemon.grants().map((grant) => grant.src)).toEqual(['198.51.100.50']);
    const again = await host('b', { dir: b.dir });
    expect(await connected(again)).toBe(true);
    await again.advance(0);
    expect(again.daemon.grants().map((grant) => [grant.src, grant.origin])).toEqual([['198.51.100.50', 'a']]);
    expect(again.record().filter((line) => line.includes(SRC))).toEqual([`+${SRC} openSSH`, `-${SRC} openSSH`]);
    // Nothing of A's announced as B's: the closed grant stays closed on A, its key gone.
    await a.advance(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await a.advance(0);
    expect(a.daemon.grants().map((grant) => [grant.src, grant.origin])).toEqual([['198.51.100.50', undefined]]);
    const client = await inspector();
    const [, keys] = await client.sendCommand(['SCAN', '0', 'MATCH', 'knockwatch:web:*', 'COUNT', '100']) as unknown as [string, string[]];
    const entries = await client.sendCommand(['XRANGE', 'knockwatch:web:stream', '-', '+']) as unknown as [string, string[]][];
    client.destroy();
    expect([...keys].sort()).toEqual(['knockwatch:web:grant:openSSH/198.51.100.50', 'knockwatch:web:stream']);
    expect(entries.map(([, fields]) => (JSON.parse(fields[1] ?? '') as { origin: string }).origin)).toEqual(['a', 'a', 'a']);
  });

  it('a message that reaches the blocked reader after SIGTERM is not applied, nor saved', async () => {
    const b = await host('b');
    expect(await connected(b)).toBe(true);
    const client = await inspector();
    const knockwatchClients = async (): Promise<string[]> => String(await client.sendCommand(['CLIENT', 'LIST'])).split('\n').filter((line) => line.includes(' user=knockwatch '));
    // The reader waits in XREAD BLOCK (a second at a time) when the stop begins.
    let blocked = false;
    for (let tries = 0; tries < 100 && !blocked; tries++) {
      blocked = (await knockwatchClients()).some((line) => line.includes(' cmd=xread ') && / flags=\S*b/.test(line));
      if (!blocked) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(blocked).toBe(true);
    const stopping = b.daemon.stop('SIGTERM');
    await client.sendCommand(['XADD', 'knockwatch:web:stream', '*', 'm', JSON.stringify({ kind: 'grant', src: SRC, door: 'openSSH', expires: clockNow + 20_000, origin: 'a' })]);
    await stopping;
    // The reader has the message, and lets go of Redis once it is done with it.
    let gone = false;
    for (let tries = 0; tries < 150 && !gone; tries++) {
      gone = (await knockwatchClients()).length === 0;
      if (!gone) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    client.destroy();
    expect(gone).toBe(true);
    const saved = JSON.parse(readFileSync(join(b.dir, 'state.json'), 'utf8')) as { grants: unknown[] };
    expect([b.daemon.grants(), saved.grants, b.record(), b.daemon.status().fleet?.applied]).toEqual([[], [], ['start 0', 'stop'], 0]);
  });

  it('a host started later rebuilds from the keys (SCAN), not from the stream', async () => {
    const a = await host('a');
    expect(await connected(a)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    await a.failLogins(2, '198.51.100.30');
    const client = await inspector();
    // Only the keys tell B now.
    await client.sendCommand(['XTRIM', 'knockwatch:web:stream', 'MAXLEN', '0']).catch(() => client.sendCommand(['DEL', 'knockwatch:web:stream']));
    client.destroy();
    const b = await host('b');
    expect(await connected(b)).toBe(true);
    expect(b.daemon.grants().map((grant) => [grant.src, grant.origin])).toEqual([[SRC, 'a']]);
    expect(b.daemon.status().pipeline.bans.map((ban) => [ban.src, ban.origin])).toEqual([['198.51.100.30', 'a']]);
  });

  it('Redis down: A still opens, says so once, B\'s grant expires on time; Redis back: A publishes what it missed and B catches up', async () => {
    const [a, b] = [await host('a'), await host('b')];
    expect(await connected(a, b)).toBe(true);
    await a.knock([7000, 8000, 9000], '198.51.100.40');
    expect(await eventually(() => b.daemon.grants().length === 1)).toBe(true);
    await redis.stop();
    await b.advance(31_000);
    expect([b.daemon.grants(), b.record().at(-1)]).toEqual([[], '-198.51.100.40 openSSH']);
    await a.advance(31_000);
    expect(await eventually(() => a.fleetLog().some((line) => line.includes('unreachable')))).toBe(true);
    expect(a.daemon.status().fleet?.connected).toBe(false);
    await a.knock([7000, 8000, 9000]);
    expect(a.record().at(-1)).toEqual(`+${SRC} openSSH`);
    // Several attempts while down, one message.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(a.fleetLog().filter((line) => line.includes('unreachable')).length).toBe(1);
    expect(b.daemon.grants()).toEqual([]);
    await redis.start();
    expect(await eventually(() => b.daemon.grants().length === 1, 15_000)).toBe(true);
    expect(b.daemon.grants().map((grant) => [grant.src, grant.origin])).toEqual([[SRC, 'a']]);
    // Lost once, back once, whatever the number of attempts between.
    expect(a.fleetLog().map(fleetKind)).toEqual(['info connected', 'info resynchronised', 'warning unreachable', 'notice back', 'info resynchronised']);
    expect(a.fleetLog().filter((line) => line.includes('is back'))).toHaveLength(1);
  }, 30_000);

  it('over TLS (rediss://) with the group\'s own CA; a host without the CA works alone and says why, once', async () => {
    await redis.stop();
    redis.tls = true;
    await redis.start();
    const ca = `redis_ca_file = ${redis.caFile}\n`;
    const [a, b] = [await host('a', { fleet: ca }), await host('b', { fleet: ca })];
    const c = await host('c');
    expect(await connected(a, b)).toBe(true);
    await a.knock([7000, 8000, 9000]);
    expect(await eventually(() => b.daemon.grants().length === 1)).toBe(true);
    expect(b.daemon.grants().map((grant) => [grant.src, grant.origin])).toEqual([[SRC, 'a']]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(c.fleetLog()).toEqual([expect.stringMatching(/^warning Fleet: Redis rediss:\/\/knockwatch@localhost:\d+ \(group web\) is unreachable \(self-signed certificate in certificate chain\)/)]);
    expect(c.daemon.grants()).toEqual([]);
  });

  it('a wrong password: one clear error, and the host keeps working alone', async () => {
    const a = await host('a');
    const c = await host('c', { password: 'not-the-password' });
    expect(await connected(a)).toBe(true);
    expect(await eventually(() => c.fleetLog().length > 0)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(c.fleetLog()).toEqual([
      expect.stringMatching(/^error Fleet: Redis redis:\/\/knockwatch@127\.0\.0\.1:\d+ \(group web\) refused user knockwatch \(WRONGPASS[^)]*\): check redis_password_file and the ACL user; working alone until it accepts\.$/),
    ]);
    expect(c.messages.join('\n')).not.toContain('not-the-password');
    await c.knock([7000, 8000, 9000]);
    expect(c.record()).toEqual(['start 0', `+${SRC} openSSH`]);
    await a.advance(0);
    expect(a.daemon.grants()).toEqual([]);
  });
});
