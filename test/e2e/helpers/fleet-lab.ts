import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/runtime/package-paths.js';
import { FLEET_ACL } from '../../fleet/redis-server.js';
import { followDaemonLog, spawnDaemon, waitFor } from './lab.js';

const HERE = join(packageRoot(), 'test/e2e/helpers');
const BIN = join(packageRoot(), 'dist/src/cli/bin.js');
const FLEET_PASSWORD = 'e2e-fleet-password';
export const KNOCK_STEPS = ['7000', '8000', '9000/udp'];

function sh(file: string, args: readonly string[], allowFail = false): string {
  const result = spawnSync(file, [...args], { encoding: 'utf8', timeout: 20_000 });
  if (!allowFail && result.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

export interface FleetHost {
  ns: string;
  // The host's address towards the client, and towards Redis.
  address: string;
  redisAddress: string;
  dir: string;
  daemon: ChildProcess | undefined;
  log: () => string;
}

// Two knockwatch hosts (namespaces kwfleet-a, kwfleet-b) with nftables and a TCP listener on
// port 22, one client namespace wired to both, and a Redis namespace wired to both:
//   client 10.221.1.2 ── 10.221.1.1 A 10.223.1.2 ── 10.223.1.1 redis
//   client 10.222.1.2 ── 10.222.1.1 B 10.223.2.2 ── 10.223.2.1 redis
// The client knocks and connects from 10.221.9.9 (on its lo, 10.221.9.0/24 routed to from both hosts).
// All namespaces share one kernel log: each host's LOG rules carry its own prefix.
export class FleetLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'kwfleet-e2e-'));
  readonly client = 'kwfleet-cli';
  readonly redisNs = 'kwfleet-redis';
  readonly clientAddress = '10.221.9.9';
  readonly a: FleetHost;
  readonly b: FleetHost;
  private readonly children: ChildProcess[] = [];
  private redis: ChildProcess | undefined;
  private oldLogAllNetns = '0';

  constructor() {
    this.a = this.host('a', 221, 1);
    this.b = this.host('b', 222, 2);
  }

  private host(name: string, subnet: number, redisLink: number): FleetHost {
    return { ns: `kwfleet-${name}`, address: `10.${subnet}.1.1`, redisAddress: `10.223.${redisLink}.1`, dir: join(this.dir, name), daemon: undefined, log: () => '' };
  }

  async up(): Promise<void> {
    this.down(true);
    this.oldLogAllNetns = readFileSync('/proc/sys/net/netfilter/nf_log_all_netns', 'utf8').trim();
    sh('sysctl', ['-q', '-w', 'net.netfilter.nf_log_all_netns=1']);
    for (const ns of [this.client, this.redisNs, this.a.ns, this.b.ns]) {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    this.wire(this.a.ns, '10.221.1.1/24', this.client, '10.221.1.2/24', 'kwf221');
    this.wire(this.b.ns, '10.222.1.1/24', this.client, '10.222.1.2/24', 'kwf222');
    this.wire(this.redisNs, '10.223.1.1/24', this.a.ns, '10.223.1.2/24', 'kwf223a');
    this.wire(this.redisNs, '10.223.2.1/24', this.b.ns, '10.223.2.2/24', 'kwf223b');
    // The client's addresses in 10.221.9.0/24, routed to from both hosts: a grant for one opens either.
    this.addClientAddress(this.clientAddress);
    sh('ip', ['-n', this.a.ns, 'route', 'add', '10.221.9.0/24', 'via', '10.221.1.2']);
    sh('ip', ['-n', this.b.ns, 'route', 'add', '10.221.9.0/24', 'via', '10.222.1.2']);
    for (const host of [this.a, this.b]) {
      sh('mkdir', ['-p', host.dir]);
      writeFileSync(join(host.dir, 'redis.pw'), `${FLEET_PASSWORD}\n`, { mode: 0o600 });
      writeFileSync(join(host.dir, 'auth.log'), '');
      const listener = this.spawnIn(host.ns, [process.execPath, join(HERE, 'listen.mjs'), '22']);
      await new Promise<void>((resolve, reject) => {
        listener.stdout?.once('data', () => resolve());
        listener.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
      });
    }
    await this.startRedis();
  }

  // Another address of the client's (in 10.221.9.0/24), for a knock of its own.
  addClientAddress(address: string): void {
    sh('ip', ['-n', this.client, 'addr', 'add', `${address}/32`, 'dev', 'lo']);
  }

  private wire(left: string, leftCidr: string, right: string, rightCidr: string, name: string): void {
    sh('ip', ['link', 'add', `${name}0`, 'netns', left, 'type', 'veth', 'peer', 'name', `${name}1`, 'netns', right]);
    sh('ip', ['-n', left, 'addr', 'add', leftCidr, 'dev', `${name}0`]);
    sh('ip', ['-n', right, 'addr', 'add', rightCidr, 'dev', `${name}1`]);
    sh('ip', ['-n', left, 'link', 'set', `${name}0`, 'up']);
    sh('ip', ['-n', right, 'link', 'set', `${name}1`, 'up']);
  }

  // redis-server in its namespace with `default` off and knockwatch's ACL user; no persistence,
  // so a restart starts empty.
  async startRedis(): Promise<void> {
    const conf = join(this.dir, 'redis.conf');
    writeFileSync(conf, ['bind 10.223.1.1 10.223.2.1', 'port 6379', `dir ${this.dir}`, 'save ""', 'appendonly no',
      'user default off', `user knockwatch on >${FLEET_PASSWORD} ${FLEET_ACL}`, ''].join('\n'));
    const redis = this.spawnIn(this.redisNs, ['redis-server', conf]);
    this.redis = redis;
    let output = '';
    redis.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    await waitFor('redis-server to listen', () => {
      if (redis.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
      return output.includes('Ready to accept connections');
    }, 15_000, 50);
  }

  async killRedis(): Promise<void> {
    const redis = this.redis;
    if (redis === undefined || redis.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => redis.once('exit', () => resolve()));
    redis.kill('SIGKILL');
    await exited;
  }

  config(host: FleetHost, options: { openFor: number; password?: string }): string {
    const prefix = host === this.a ? 'kwfleetA' : 'kwfleetB';
    if (options.password !== undefined) writeFileSync(join(host.dir, 'wrong.pw'), `${options.password}\n`, { mode: 0o600 });
    const text = `[options]
firewall = nftables
kernel_source = kmsg
auth_source = file:${join(host.dir, 'auth.log')}
log_prefix = ${prefix}
maxretry = 2
bantime = 120
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open = 22/tcp
open_for = ${options.openFor}
[fleet]
redis = redis://knockwatch@${host.redisAddress}:6379
redis_password_file = ${join(host.dir, options.password === undefined ? 'redis.pw' : 'wrong.pw')}
group = web
name = ${host === this.a ? 'a' : 'b'}
`;
    const path = join(host.dir, 'knockwatch.ini');
    writeFileSync(path, text);
    return path;
  }

  private daemons = 0;

  async startDaemon(host: FleetHost, config: string): Promise<void> {
    const logFile = join(host.dir, `daemon-${++this.daemons}.log`);
    const daemon = spawnDaemon(host.ns, [process.execPath, BIN, 'run', '--config', config,
      '--state-file', join(host.dir, 'state.json'), '--control-socket', join(host.dir, 'control.sock')], logFile);
    this.children.push(daemon);
    host.daemon = daemon;
    const log = followDaemonLog(daemon, logFile);
    host.log = log.text;
    await log.started;
  }

  async stopDaemon(host: FleetHost): Promise<void> {
    const daemon = host.daemon;
    if (daemon === undefined || daemon.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
    daemon.kill('SIGTERM');
    await exited;
  }

  // `knockwatch status` of a host.
  status(host: FleetHost): string {
    return sh(process.execPath, [BIN, 'status', '--control-socket', join(host.dir, 'control.sock')], true);
  }

  // Knocks from the client on a host.
  knock(host: FleetHost, steps: readonly string[] = KNOCK_STEPS): number {
    const result = spawnSync('ip', ['netns', 'exec', this.client, process.execPath, join(HERE, 'knock.mjs'), host.address, '50', ...steps],
      { encoding: 'utf8', timeout: 20_000, env: { ...process.env, KNOCK_FROM: this.clientAddress } });
    if (result.status !== 0) throw new Error(`knock failed: ${result.stderr}`);
    return Number(result.stdout.trim());
  }

  // Whether a new connection from the client to the host's port 22 gets through.
  canConnect(host: FleetHost): boolean {
    return spawnSync('ip', ['netns', 'exec', this.client, 'nc', '-z', '-w', '1', '-s', this.clientAddress, host.address, '22'], { timeout: 10_000 }).status === 0;
  }

  // sshd's lines for failed logins from `src`, into the host's auth log (a file source).
  failLogins(host: FleetHost, src: string, count: number): void {
    const stamp = new Date().toISOString().replace('Z', '000+00:00');
    let text = '';
    for (let i = 0; i < count; i++) text += `${stamp} ${host.ns} sshd[${4000 + i}]: Failed password for root from ${src} port ${50000 + i} ssh2\n`;
    writeFileSync(join(host.dir, 'auth.log'), text, { flag: 'a' });
  }

  spawnIn(ns: string, argv: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  down(quiet = false): void {
    for (const child of this.children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const ns of [this.client, this.redisNs, this.a.ns, this.b.ns]) sh('ip', ['netns', 'del', ns], true);
    if (!quiet) {
      sh('sysctl', ['-q', '-w', `net.netfilter.nf_log_all_netns=${this.oldLogAllNetns}`], true);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
