import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { packageRoot } from '../../../src/runtime/package-paths.js';

const HERE = join(packageRoot(), 'test/e2e/helpers');
const BIN = join(packageRoot(), 'dist/src/cli/bin.js');
const SSH_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR'];

function sh(file: string, args: readonly string[], allowFail = false): string {
  const result = spawnSync(file, [...args], { encoding: 'utf8', timeout: 20_000 });
  if (!allowFail && result.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

// Waits for a condition, polling; bounded in time.
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// A knockwatch daemon started in a namespace, its stderr written to `logFile`.
export function spawnDaemon(ns: string, argv: readonly string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'ignore', fd] });
  } finally {
    closeSync(fd);
  }
}

// A daemon's log (its stderr, in a file) as it is now: read afresh at each call, so a line the
// daemon wrote before a check is there at the check (a pipe's data would wait until the test's
// event loop turned). `started` resolves once the daemon logged that it started, and rejects
// with its log when it exited first.
export function followDaemonLog(child: ChildProcess, logFile: string): { text: () => string; started: Promise<void> } {
  const text = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const started = waitFor('the daemon to start', () => text().includes('Started with') || child.exitCode !== null, 15_000).then(() => {
    if (child.exitCode !== null) throw new Error(`knockwatch exited with ${child.exitCode}: ${text()}`);
  });
  return { text, started };
}

export interface LabOptions {
  // Namespace names start with this; addresses are 10.<subnet>.1.0/24 (client) and .2.0/24 (admin).
  name: string;
  subnet: number;
  // A real sshd on port 22 (logging through the lab's rsyslogd to auth.log, or to the lab's
  // journald) instead of the plain TCP listener.
  sshd?: boolean;
  // A real rsyslogd writing kern.log and auth.log (the default); false: no rsyslogd at all.
  rsyslog?: boolean;
  // A real systemd-journald of the lab's own (helpers/journald.sh), where sshd logs.
  journald?: boolean;
}

// Where Debian and others install systemd-journald (it is not on the PATH).
export const JOURNALD = ['/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-journald'].find((path) => existsSync(path));

// A server namespace with a client and an admin namespace wired to it by veth pairs, a
// real rsyslogd writing kern.log from the kernel log (unless `rsyslog: false`), and a TCP
// listener or a real sshd on port 22.
export class Lab {
  readonly dir = mkdtempSync(join(tmpdir(), 'knockwatch-e2e-'));
  readonly kernLog = join(this.dir, 'kern.log');
  readonly authLog = join(this.dir, 'auth.log');
  readonly clientKey = join(this.dir, 'client_key');
  // The lab journald's journal (for journalctl --directory) and its syslog socket (/dev/log
  // for the processes that log to it).
  readonly journalDirectory = join(this.dir, 'run-log', 'journal');
  readonly journalSocket = join(this.dir, 'run-systemd', 'journal', 'dev-log');
  private journald: ChildProcess | undefined;
  private devLogPlaceholder = false;
  readonly server: string;
  readonly client: string;
  readonly admin: string;
  readonly serverAddress: string;
  readonly clientAddress: string;
  readonly adminAddress: string;
  private readonly children: ChildProcess[] = [];
  private oldLogAllNetns = '0';
  daemon: ChildProcess | undefined;
  private log: () => string = () => '';

  constructor(private readonly options: LabOptions) {
    this.server = `${options.name}-srv`;
    this.client = `${options.name}-cli`;
    this.admin = `${options.name}-adm`;
    this.serverAddress = `10.${options.subnet}.1.1`;
    this.clientAddress = `10.${options.subnet}.1.2`;
    this.adminAddress = `10.${options.subnet}.2.2`;
  }

  async up(): Promise<void> {
    this.down(true);
    this.oldLogAllNetns = readFileSync('/proc/sys/net/netfilter/nf_log_all_netns', 'utf8').trim();
    sh('sysctl', ['-q', '-w', 'net.netfilter.nf_log_all_netns=1']);
    for (const ns of [this.server, this.client, this.admin]) {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const s = this.options.subnet;
    this.wire(this.client, `10.${s}.1.1/24`, `10.${s}.1.2/24`, 'c', `fd00:${s}:1::1/64`, `fd00:${s}:1::2/64`);
    this.wire(this.admin, `10.${s}.2.1/24`, `10.${s}.2.2/24`, 'a', `fd00:${s}:2::1/64`, `fd00:${s}:2::2/64`);
    if (this.options.rsyslog ?? true) await this.startRsyslog();
    if (this.options.journald) await this.startJournald();
    if (this.options.sshd) {
      await this.startSshd();
      return;
    }
    const listener = this.spawnIn(this.server, [process.execPath, join(HERE, 'listen.mjs'), '22']);
    await new Promise<void>((resolve, reject) => {
      listener.stdout?.once('data', () => resolve());
      listener.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
    });
  }

  // sshd logs to /dev/log: in a mount namespace of its own, /dev/log is the lab journald's
  // socket, or else the lab rsyslogd's, so nothing of the host's logging changes.
  private async startSshd(): Promise<void> {
    if (!this.options.journald && this.options.rsyslog === false) throw new Error('sshd needs the lab journald or rsyslogd to log to');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'host_key')]);
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', this.clientKey]);
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(`${this.clientKey}.pub`));
    const config = join(this.dir, 'sshd_config');
    writeFileSync(config, [
      'Port 22', `ListenAddress ${this.serverAddress}`, `ListenAddress ${this.serverAddressFor(this.admin)}`, `HostKey ${join(this.dir, 'host_key')}`, `PidFile ${join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`, 'PermitRootLogin yes', 'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no', 'UsePAM yes', 'StrictModes no', 'SyslogFacility AUTH', 'LogLevel INFO', 'UseDNS no', 'MaxAuthTries 10', '',
    ].join('\n'));
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    if (!existsSync('/dev/log')) {
      writeFileSync('/dev/log', '');
      this.devLogPlaceholder = true;
    }
    const socket = this.options.journald ? this.journalSocket : join(this.dir, 'log.sock');
    const sshd = this.spawnIn(this.server, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
      `mount --bind "$0" /dev/log && exec /usr/sbin/sshd -D -f "$1"`, socket, config]);
    let errors = '';
    sshd.stderr?.on('data', (chunk: Buffer) => { errors += chunk.toString(); });
    await waitFor('sshd to listen', () => {
      if (sshd.exitCode !== null) throw new Error(`sshd exited with ${sshd.exitCode}: ${errors}`);
      return (this.options.journald ? this.journal(['-o', 'cat']) : readFileSync(this.authLog, 'utf8')).includes('Server listening on');
    }, 15_000, 100);
  }

  // A real systemd-journald whose sockets and journal files are the lab's own directories:
  // journald.sh gives it a private mount namespace (nothing of the host's journal, /dev/kmsg
  // or /proc/sys settings); it is killed with the lab. Records sent to journalSocket get
  // their _PID, _UID, _COMM and _TRANSPORT from the kernel's credentials, as on a real host.
  private async startJournald(): Promise<void> {
    if (JOURNALD === undefined) throw new Error('systemd-journald is not installed');
    for (const sub of ['run-systemd/journald.conf.d', 'run-log', 'var-journal']) mkdirSync(join(this.dir, sub), { recursive: true });
    writeFileSync(join(this.dir, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
    writeFileSync(join(this.dir, 'run-systemd/journald.conf.d/zz-knockwatch-lab.conf'), ['[Journal]', 'Storage=volatile', 'ReadKMsg=no',
      'ForwardToSyslog=no', 'ForwardToKMsg=no', 'ForwardToConsole=no', 'ForwardToWall=no', 'RateLimitBurst=0', ''].join('\n'));
    const journald = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', join(HERE, 'journald.sh'), this.dir, JOURNALD], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.children.push(journald);
    this.journald = journald;
    let errors = '';
    journald.stderr?.on('data', (chunk: Buffer) => { errors += chunk.toString(); });
    await waitFor('journald to write its journal', () => {
      if (journald.exitCode !== null) throw new Error(`systemd-journald exited with ${journald.exitCode}: ${errors}`);
      return existsSync(this.journalSocket) && this.journal(['-o', 'cat']).includes('Journal started');
    }, 15_000, 100);
  }

  // journalctl on the lab journald's journal.
  journal(args: readonly string[]): string {
    return sh('journalctl', [`--directory=${this.journalDirectory}`, '--no-pager', ...args], true);
  }

  // Whether the lab journald is gone (after down()).
  journaldGone(): boolean {
    const pid = this.journald?.pid;
    if (pid === undefined) return true;
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
    } catch {
      return true;
    }
  }

  // An ssh login with the lab's key that runs a command and logs out.
  sshLogin(from: string, command = 'true'): { status: number | null; stdout: string } {
    const result = spawnSync('ip', ['netns', 'exec', from, 'ssh', '-i', this.clientKey, ...SSH_OPTIONS, '-o', 'BatchMode=yes',
      `root@${this.serverAddressFor(from)}`, command], { timeout: 30_000, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout };
  }

  // Sends a signal to the running daemon.
  signalDaemon(signal: NodeJS.Signals): void {
    this.daemon?.kill(signal);
  }

  // One password login with a wrong password.
  sshWrongPassword(from: string): number | null {
    const askpass = join(this.dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\necho not-the-password\n', { mode: 0o755 });
    return spawnSync('ip', ['netns', 'exec', from, 'ssh', ...SSH_OPTIONS, '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no',
      '-o', 'NumberOfPasswordPrompts=1', `root@${this.serverAddressFor(from)}`, 'true'],
    { timeout: 20_000, env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, stdio: ['ignore', 'ignore', 'ignore'] }).status;
  }

  private wire(peer: string, serverCidr: string, peerCidr: string, tag: string, server6: string, peer6: string): void {
    const a = `kw${this.options.subnet}${tag}0`;
    const b = `kw${this.options.subnet}${tag}1`;
    sh('ip', ['link', 'add', a, 'netns', this.server, 'type', 'veth', 'peer', 'name', b, 'netns', peer]);
    sh('ip', ['-n', this.server, 'addr', 'add', serverCidr, 'dev', a]);
    sh('ip', ['-n', peer, 'addr', 'add', peerCidr, 'dev', b]);
    sh('ip', ['-n', this.server, '-6', 'addr', 'add', server6, 'dev', a, 'nodad']);
    sh('ip', ['-n', peer, '-6', 'addr', 'add', peer6, 'dev', b, 'nodad']);
    sh('ip', ['-n', this.server, 'link', 'set', a, 'up']);
    sh('ip', ['-n', peer, 'link', 'set', b, 'up']);
  }

  private async startRsyslog(): Promise<void> {
    const conf = join(this.dir, 'rsyslog.conf');
    writeFileSync(conf, [
      `global(workDirectory="${this.dir}")`,
      'module(load="imklog")',
      'module(load="imuxsock" SysSock.Use="off")',
      `input(type="imuxsock" Socket="${join(this.dir, 'log.sock')}")`,
      `kern.* action(type="omfile" file="${this.kernLog}" template="RSYSLOG_FileFormat")`,
      `auth,authpriv.* action(type="omfile" file="${this.authLog}" template="RSYSLOG_FileFormat")`,
      '',
    ].join('\n'));
    writeFileSync(this.kernLog, '');
    writeFileSync(this.authLog, '');
    const rsyslog = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.children.push(rsyslog);
    // Proof that rsyslogd reads the kernel log: a LOG line from the server namespace arrives.
    sh('ip', ['netns', 'exec', this.server, 'iptables', '-w', '-I', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', 'LOG', '--log-prefix', `kwprobe-${this.options.name} `]);
    await waitFor('rsyslogd to write kern.log', () => {
      this.sendProbe();
      return readFileSync(this.kernLog, 'utf8').includes(`kwprobe-${this.options.name}`);
    }, 15_000, 200);
    sh('ip', ['netns', 'exec', this.server, 'iptables', '-w', '-D', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', 'LOG', '--log-prefix', `kwprobe-${this.options.name} `]);
  }

  // The lab rsyslogd's socket: what `logger -u` writes there lands in kern.log or auth.log.
  get syslogSocket(): string {
    return join(this.dir, 'log.sock');
  }

  private sendProbe(): void {
    sh('ip', ['netns', 'exec', this.server, process.execPath, '-e',
      "const s=require('dgram').createSocket('udp4');s.send('p',9,'127.0.0.1',()=>s.close())"], true);
  }

  spawnIn(ns: string, argv: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: [stdin, 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  readonly bin = BIN;

  // The lab daemon's own control socket: never the machine's /run/knockwatch.
  get controlSocket(): string {
    return join(this.dir, 'control.sock');
  }

  // `knockwatch status|unban|close ... ` against the lab daemon: exit code and output.
  ask(argv: readonly string[]): { code: number; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [BIN, ...argv, '--control-socket', this.controlSocket], { encoding: 'utf8', timeout: 30_000 });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  stateFileHas(text: string): boolean {
    const path = join(this.dir, 'state.json');
    return existsSync(path) && readFileSync(path, 'utf8').includes(text);
  }

  readonly configPath = join(this.dir, 'knockwatch.ini');

  writeConfig(text: string): string {
    writeFileSync(this.configPath, text);
    return this.configPath;
  }

  // What the daemon started last has logged so far.
  get daemonLog(): string {
    return this.log();
  }

  private daemons = 0;

  // `files`: read the lab's rsyslog files (--log, --auth-log); false: the sources the config names.
  async startDaemon(configPath: string, extra: readonly string[] = [], files = true): Promise<void> {
    const sources = files ? ['--log', this.kernLog, '--auth-log', this.authLog] : [];
    const logFile = join(this.dir, `daemon-${++this.daemons}.log`);
    const daemon = spawnDaemon(this.server, [process.execPath, BIN, 'run', '--config', configPath, ...sources,
      '--state-file', join(this.dir, 'state.json'), '--control-socket', this.controlSocket, ...extra], logFile);
    this.children.push(daemon);
    this.daemon = daemon;
    const log = followDaemonLog(daemon, logFile);
    this.log = log.text;
    await log.started;
  }

  // `knockwatch try` in the server namespace, with a terminal (stdin) the test can type into;
  // its stdout and stderr go to `output`.
  private tries = 0;

  startTry(configPath: string, extra: readonly string[] = []): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    let output = '';
    const child = this.spawnIn(this.server, [process.execPath, BIN, 'try', '--config', configPath, '--log', this.kernLog, '--auth-log', this.authLog,
      '--state-file', join(this.dir, `try-state-${++this.tries}.json`), ...extra], 'pipe');
    child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  }

  async stopDaemon(signal: NodeJS.Signals): Promise<number | null> {
    const daemon = this.daemon;
    if (daemon === undefined || daemon.exitCode !== null) return daemon?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
    // `ip netns exec` execs node, so the child's PID is knockwatch's own.
    daemon.kill(signal);
    return await exited;
  }

  // Waits for the daemon to log the grant of 22/tcp for `address`.
  async waitForGrant(address: string): Promise<void> {
    await waitFor(`the grant for ${address}`, () => this.daemonLog.includes(`Opened 22/tcp for ${address}`), 10_000);
  }

  // Knocks from a namespace; resolves to the time the last knock left (epoch ms).
  async knock(from: string, steps: readonly string[], gapMs = 50, sourceAddress?: string, family: 4 | 6 = 4): Promise<number> {
    const result = spawnSync('ip', ['netns', 'exec', from, process.execPath, join(HERE, 'knock.mjs'), this.serverAddressFor(from, family), String(gapMs), ...steps],
      { encoding: 'utf8', timeout: 20_000, env: { ...process.env, KNOCK_FROM: sourceAddress ?? '' } });
    if (result.status !== 0) throw new Error(`knock failed: ${result.stderr}`);
    return Number(result.stdout.trim());
  }

  // The server's address on the link to a namespace.
  serverAddressFor(from: string, family: 4 | 6 = 4): string {
    const link = from === this.admin ? 2 : 1;
    return family === 6 ? `fd00:${this.options.subnet}:${link}::1` : `10.${this.options.subnet}.${link}.1`;
  }

  // A namespace's own address, IPv4 or IPv6.
  addressOf(ns: string, family: 4 | 6): string {
    const link = ns === this.admin ? 2 : 1;
    return family === 6 ? `fd00:${this.options.subnet}:${link}::2` : `10.${this.options.subnet}.${link}.2`;
  }

  // Whether a new TCP connection to the protected port gets through.
  canConnect(from: string, port = 22, family: 4 | 6 = 4): boolean {
    const result = spawnSync('ip', ['netns', 'exec', from, 'nc', '-z', '-w', '1', this.serverAddressFor(from, family), String(port)], { timeout: 10_000 });
    return result.status === 0;
  }

  inServer(argv: readonly string[]): string {
    return sh('ip', ['netns', 'exec', this.server, ...argv], true);
  }

  down(quiet = false): void {
    for (const child of this.children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const ns of [this.server, this.client, this.admin]) sh('ip', ['netns', 'del', ns], true);
    if (this.devLogPlaceholder) {
      rmSync('/dev/log', { force: true });
      this.devLogPlaceholder = false;
    }
    if (!quiet) {
      sh('sysctl', ['-q', '-w', `net.netfilter.nf_log_all_netns=${this.oldLogAllNetns}`], true);
      if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

// The set-up of a file's lab: before its tests the lab comes up, `config` is written as its
// knockwatch.ini (lab.configPath) and, unless `start` is false, knockwatch runs on it reading
// the sources the config names (kmsg, the journal); after them the lab goes, and its journald
// with it.
export function useLab(lab: Lab, config: (lab: Lab) => string, start = true): void {
  beforeAll(async () => {
    await lab.up();
    lab.writeConfig(config(lab));
    if (start) await lab.startDaemon(lab.configPath, [], false);
  });
  afterAll(async () => {
    lab.down();
    await waitFor('the lab journald to be gone', () => lab.journaldGone(), 5000);
  });
}
