import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveSequence, windowStartOf } from '../../src/doors/rotating.js';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { JOURNALD, Lab, waitFor } from './helpers/lab.js';

// Rotating doors end to end: a real daemon (nftables, knocks from /dev/kmsg, sshd in the lab's
// own journald, no rsyslogd) and `knockwatch knock` or the hand-made md5-hour recipe in the
// client namespaces. What an eavesdropper records is read back from the kernel log itself.
const missing = missingPrerequisites(['ip', 'nft', 'sshd', 'ssh', 'ssh-keygen', 'unshare', 'nc', 'dc', 'md5sum', 'awk', 'bash', 'journalctl', 'sysctl'], true);
if (JOURNALD === undefined) missing.push('systemd-journald');
explainSkip('end-to-end rotating door tests', missing);

const SUBNET = 212;
const SERVER = `10.${SUBNET}.1.1`;
// Extra addresses of the client namespace, one per scenario, so that no grant of one scenario
// lets another's connection through.
const FROM = {
  replayer: `10.${SUBNET}.1.3`, recorded: `10.${SUBNET}.1.4`, sentinel: `10.${SUBNET}.1.5`, lastWindow: `10.${SUBNET}.1.6`, thisWindow: `10.${SUBNET}.1.7`,
  once: `10.${SUBNET}.1.8`, onceOther: `10.${SUBNET}.1.9`, afterRestart: `10.${SUBNET}.1.10`,
};
const ONCE = { low: 16000, high: 16999 };
// The server secret as an editor leaves it (a final newline); the client's copy without one.
const SECRET = 'k3y-of-the-e2e-lab-7f3a9c';
const TURN = 30;
const TURNING = { low: 13000, high: 13999 };
const MD5_SCRIPT = join(packageRoot(), 'test/e2e/helpers/md5-hour-nc.sh');

describe.skipIf(missing.length > 0)('rotating doors against a real daemon (nftables, kmsg, sshd)', () => {
  const lab = new Lab({ name: 'kwe2e-rot', subnet: SUBNET, sshd: true, rsyslog: false, journald: true });
  const env: Record<string, string | undefined> = { ...process.env };
  let kmsgMark = 0;
  let configPath = '';

  beforeAll(async () => {
    await lab.up();
    for (const address of Object.values(FROM)) {
      const added = spawnSync('ip', ['-n', lab.client, 'addr', 'add', `${address}/24`, 'dev', `kw${SUBNET}c1`], { encoding: 'utf8', timeout: 10_000 });
      if (added.status !== 0) throw new Error(`ip addr add ${address}: ${added.stderr}`);
    }
    const serverSecret = join(lab.dir, 'door.secret');
    writeFileSync(serverSecret, `${SECRET}\n`, { mode: 0o600 });
    configPath = lab.writeConfig(`[options]
firewall = nftables
journal_directory = ${lab.journalDirectory}
[rot]
secret_file = ${serverSecret}
rotate = 1h
port_range = 12000-12999
length = 4
protocols = tcp,udp
seq_timeout = 10
open = 22/tcp
open_for = 120
[turning]
secret_file = ${serverSecret}
rotate = ${TURN}s
skew = 0
port_range = ${TURNING.low}-${TURNING.high}
length = 3
seq_timeout = 10
open = 22/tcp
open_for = 120
[hourly]
derive = md5-hour
secret_file = ${serverSecret}
port_range = 14000-14999
seq_timeout = 20
open = 22/tcp
open_for = 120
[bound]
secret_file = ${serverSecret}
rotate = 1h
bind_source = yes
port_range = 15000-15099
length = 4
protocols = tcp,udp
seq_timeout = 10
open = 22/tcp
open_for = 120
[once]
secret_file = ${serverSecret}
rotate = 1h
once_per_window = yes
port_range = 16000-16999
length = 3
seq_timeout = 10
open = 22/tcp
open_for = 120
`);
    // The client's side: its own copy of the secret (its own file, 0600), found through the
    // default client config path, and `knockwatch` on the PATH as ssh's ProxyCommand finds it.
    const clientSecret = join(lab.dir, 'client.secret');
    writeFileSync(clientSecret, SECRET, { mode: 0o600 });
    mkdirSync(join(lab.dir, 'xdg', 'knockwatch'), { recursive: true });
    writeFileSync(join(lab.dir, 'xdg', 'knockwatch', 'client.ini'), `[${SERVER} rot]
secret_file = ${clientSecret}
rotate = 1h
port_range = 12000-12999
length = 4
protocols = tcp,udp
[${SERVER} turning]
secret_file = ${clientSecret}
rotate = ${TURN}s
port_range = ${TURNING.low}-${TURNING.high}
length = 3
[${SERVER} bound]
secret_file = ${clientSecret}
rotate = 1h
bind_source = yes
port_range = 15000-15099
length = 4
protocols = tcp,udp
[gate6]
address = ${lab.serverAddressFor(lab.client, 6)}
[gate6 bound]
secret_file = ${clientSecret}
rotate = 1h
bind_source = yes
port_range = 15000-15099
length = 4
protocols = tcp,udp
[${SERVER} once]
secret_file = ${clientSecret}
rotate = 1h
port_range = 16000-16999
length = 3
`);
    mkdirSync(join(lab.dir, 'bin'));
    writeFileSync(join(lab.dir, 'bin', 'knockwatch'), `#!/bin/sh\nexec "${process.execPath}" "${lab.bin}" "$@"\n`, { mode: 0o755 });
    env.XDG_CONFIG_HOME = join(lab.dir, 'xdg');
    env.PATH = `${join(lab.dir, 'bin')}:${process.env.PATH ?? ''}`;
    kmsgMark = lastKmsgSeq();
    await lab.startDaemon(configPath, [], false);
  });

  afterAll(async () => {
    lab.down();
    await waitFor('the lab journald to be gone', () => lab.journaldGone(), 5000);
  });

  // `knockwatch knock ARGS` in the client namespace.
  function knock(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync('ip', ['netns', 'exec', lab.client, 'knockwatch', 'knock', ...args], { encoding: 'utf8', timeout: 30_000, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  function opened(door: string, src: string): number {
    return lab.daemonLog.split('\n').filter((line) => line.includes(`Opened 22/tcp for ${src} (door ${door},`)).length;
  }

  // The addresses in the door's grant set of the live ruleset.
  function granted(door: string, family: 4 | 6 = 4): string[] {
    const table = lab.inServer(['nft', 'list', 'table', 'inet', 'knockwatch']);
    const set = table.split(/\n\s*set /).find((text) => text.startsWith(`grant${family}_`) && text.includes(`comment "knockwatch:${door}"\n`));
    const elements = /elements = \{([^}]*)\}/.exec(set ?? '')?.[1] ?? '';
    return [...elements.matchAll(family === 4 ? /10\.\d+\.\d+\.\d+/g : /fd00:[0-9a-f:]+/g)].map((match) => match[0]);
  }

  // Whether a new TCP connection to port 22 from one of the client namespace's addresses gets through.
  function canConnectFrom(src: string): boolean {
    return spawnSync('ip', ['netns', 'exec', lab.client, 'nc', '-z', '-w', '1', '-s', src, SERVER, '22'], { timeout: 10_000 }).status === 0;
  }

  // The knocks the server logged from `src` since the lab started: what anyone on the path sees.
  function recorded(src: string, range: { low: number; high: number }): string[] {
    return kmsgSince(kmsgMark)
      .map((text) => new RegExp(`^knockwatch IN=kw${SUBNET}c0 .*SRC=${src.replaceAll('.', '\\.')} .*PROTO=(TCP|UDP) SPT=\\d+ DPT=(\\d+) `).exec(text))
      .filter((match) => match !== null)
      .map((match) => `${match[2]}:${(match[1] as string).toLowerCase()}`)
      .filter((step) => Number(step.split(':')[0]) >= range.low && Number(step.split(':')[0]) <= range.high);
  }

  it('reads the knocks from kmsg and sshd from the lab journal, with no rsyslogd', () => {
    expect(lab.daemonLog).toContain(`reading kernel: kmsg (auto); sshd: journal in ${lab.journalDirectory}`);
  });

  it('knockwatch knock opens a rotating door (tcp and udp steps from the secret file)', async () => {
    expect(canConnectFrom(lab.clientAddress)).toBe(false);
    const result = knock([SERVER, 'rot', '-v']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter((line) => /^Knocked 10\.212\.1\.1 step \d\/4 \((tcp|udp)\)\.$/.test(line))).toHaveLength(4);
    await waitFor('the grant', () => opened('rot', lab.clientAddress) === 1);
    expect(granted('rot')).toEqual([lab.clientAddress]);
    expect(canConnectFrom(lab.clientAddress)).toBe(true);
    // The four knocks in the kernel log, nothing of the secret anywhere in the daemon's log.
    expect(recorded(lab.clientAddress, { low: 12000, high: 12999 })).toHaveLength(4);
    expect(lab.daemonLog).not.toContain(SECRET);
  });

  it('ssh with knockwatch knock as its ProxyCommand logs in to the real sshd', async () => {
    expect(lab.ask(['close', lab.clientAddress, 'rot']).code).toBe(0);
    await waitFor('the grant to close', () => lab.daemonLog.includes(`Closed rot for ${lab.clientAddress}`));
    expect(canConnectFrom(lab.clientAddress)).toBe(false);
    const ssh = spawnSync('ip', ['netns', 'exec', lab.client, 'ssh', '-i', lab.clientKey, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ProxyCommand=knockwatch knock %h rot --connect %p', `root@${SERVER}`, 'echo "in as $(id -un)"'],
    { encoding: 'utf8', timeout: 60_000, env, stdio: ['ignore', 'pipe', 'pipe'] });
    expect({ status: ssh.status, stdout: ssh.stdout }).toEqual({ status: 0, stdout: 'in as root\n' });
    await waitFor('the second grant', () => opened('rot', lab.clientAddress) === 2);
    await waitFor('the login in the daemon log', () => lab.daemonLog.includes(`SSH login of "root" from ${lab.clientAddress}.`));
  });

  it('the md5-hour recipe\'s own shell function driving nc opens an md5-hour door', async () => {
    expect(lab.canConnect(lab.admin)).toBe(false);
    const secretFile = join(lab.dir, 'recipe.secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    // The client's local time zone is not UTC: the recipe's own TZ=UTC makes the hour.
    const recipe = spawnSync('ip', ['netns', 'exec', lab.admin, 'bash', MD5_SCRIPT, secretFile, lab.serverAddressFor(lab.admin), '14000', '14999'],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TZ: 'Europe/Paris' } });
    expect(recipe.status).toBe(0);
    const ports = recipe.stdout.trim().split('\n').map(Number);
    expect(ports).toHaveLength(5);
    expect(ports.every((port) => port >= 14000 && port <= 14999)).toBe(true);
    await waitFor('the grant', () => opened('hourly', lab.adminAddress) === 1, 15_000);
    expect(granted('hourly')).toEqual([lab.adminAddress]);
    expect(lab.canConnect(lab.admin)).toBe(true);
  });

  it('last window\'s sequence opens nothing with skew = 0; this window\'s does', async () => {
    // Both knocks inside one window, away from its edges.
    const into = (Date.now() / 1000) % TURN;
    if (into < 3 || into > TURN - 8) await new Promise((resolve) => setTimeout(resolve, ((TURN - into + 3) % TURN) * 1000));
    const now = Date.now();
    const window = windowStartOf(now, TURN);
    const derive = (windowStart: number): string[] => deriveSequence({ secret: Buffer.from(SECRET), door: 'turning', windowStart, range: TURNING, length: 3, protocols: ['tcp'] })
      .map((step) => `${step.port}:${step.proto}`);
    const last = derive(window - TURN);
    expect(last).not.toEqual(derive(window));
    expect(knock([SERVER, ...last, '--source', FROM.lastWindow]).code).toBe(0);
    expect(knock([SERVER, 'turning', '--source', FROM.thisWindow]).code).toBe(0);
    expect(windowStartOf(Date.now(), TURN)).toBe(window);
    await waitFor('this window\'s grant', () => opened('turning', FROM.thisWindow) === 1);
    // What the client sent is the window's sequence as derived here, so `last` is last window's.
    expect(recorded(FROM.thisWindow, TURNING)).toEqual(derive(window));
    expect(opened('turning', FROM.lastWindow)).toBe(0);
    expect(granted('turning')).toEqual([FROM.thisWindow]);
    expect(canConnectFrom(FROM.lastWindow)).toBe(false);
  });

  it('bind_source: a recorded sequence replayed from another address opens nothing', async () => {
    const bound = { low: 15000, high: 15099 };
    expect(knock([SERVER, 'bound', '--source', FROM.recorded]).code).toBe(0);
    await waitFor('the recorded address\'s grant', () => opened('bound', FROM.recorded) === 1);
    const sequence = recorded(FROM.recorded, bound);
    expect(sequence).toHaveLength(4);
    // The same packets from another address of the same client, then a sentinel knock: once
    // its grant is logged, the daemon has read the replay.
    expect(knock([SERVER, ...sequence, '--source', FROM.replayer]).code).toBe(0);
    expect(knock([SERVER, 'bound', '--source', FROM.sentinel]).code).toBe(0);
    await waitFor('the sentinel\'s grant', () => opened('bound', FROM.sentinel) === 1);
    expect(recorded(FROM.replayer, bound)).toEqual(sequence);
    expect(opened('bound', FROM.replayer)).toBe(0);
    expect(granted('bound').sort()).toEqual([FROM.recorded, FROM.sentinel].sort());
    expect(canConnectFrom(FROM.replayer)).toBe(false);
  });

  it('bind_source over IPv6: the address the kernel logs derives what the client derived', async () => {
    const client6 = lab.addressOf(lab.client, 6);
    const result = knock(['gate6', 'bound', '-v']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter((line) => line.startsWith(`Knocked ${lab.serverAddressFor(lab.client, 6)} step `))).toHaveLength(4);
    await waitFor('the IPv6 grant', () => opened('bound', client6) === 1);
    // (The lab's sshd listens on IPv4 only: the grant is checked in the ruleset.)
    expect(granted('bound', 6)).toEqual([client6]);
  });

  it('once_per_window: the recorded sequence replayed from the same address in the same window opens nothing', async () => {
    expect(knock([SERVER, 'once', '--source', FROM.once]).code).toBe(0);
    await waitFor('the first grant', () => opened('once', FROM.once) === 1);
    const sequence = recorded(FROM.once, ONCE);
    expect(sequence).toHaveLength(3);
    expect(lab.ask(['close', FROM.once, 'once']).code).toBe(0);
    await waitFor('the grant to close', () => lab.daemonLog.includes(`Closed once for ${FROM.once}`));
    expect(canConnectFrom(FROM.once)).toBe(false);
    expect(knock([SERVER, ...sequence, '--source', FROM.once]).code).toBe(0);
    // Another address's first use of the same window's sequence opens: the sentinel.
    expect(knock([SERVER, ...sequence, '--source', FROM.onceOther]).code).toBe(0);
    await waitFor('the sentinel\'s grant', () => opened('once', FROM.onceOther) === 1);
    expect(recorded(FROM.once, ONCE)).toEqual([...sequence, ...sequence]);
    expect(opened('once', FROM.once)).toBe(1);
    expect(granted('once')).toEqual([FROM.onceOther]);
    expect(canConnectFrom(FROM.once)).toBe(false);
  });

  it('once_per_window survives a crash and a restart: the used sequence still opens nothing, the grants stay', async () => {
    const sequence = recorded(FROM.once, ONCE).slice(0, 3);
    expect(await lab.stopDaemon('SIGKILL')).toBe(null);
    await lab.startDaemon(configPath, [], false);
    expect(knock([SERVER, ...sequence, '--source', FROM.once]).code).toBe(0);
    expect(knock([SERVER, ...sequence, '--source', FROM.afterRestart]).code).toBe(0);
    await waitFor('the sentinel\'s grant', () => opened('once', FROM.afterRestart) === 1);
    expect(opened('once', FROM.once)).toBe(0);
    expect(granted('once').sort()).toEqual([FROM.afterRestart, FROM.onceOther].sort());
    expect(canConnectFrom(FROM.once)).toBe(false);
  });

  it('when the window turns, the ruleset logs the new window\'s ports (its sequence opens) and keeps the grants', async () => {
    const turn = (windowStartOf(Date.now(), TURN) + TURN) * 1000;
    await new Promise((resolve) => setTimeout(resolve, turn - Date.now() + 3000));
    expect(knock([SERVER, 'turning', '--source', FROM.lastWindow]).code).toBe(0);
    await waitFor('the grant in the new window', () => opened('turning', FROM.lastWindow) === 1);
    expect(granted('turning').sort()).toEqual([FROM.lastWindow, FROM.thisWindow].sort());
    expect(canConnectFrom(FROM.thisWindow)).toBe(true);
  });
});

// The sequence number of the newest kernel log record.
function lastKmsgSeq(): number {
  let last = 0;
  readKmsg((seq) => {
    last = seq;
  });
  return last;
}

// The texts of the kernel log records after `mark`, oldest first.
function kmsgSince(mark: number): string[] {
  const texts: string[] = [];
  readKmsg((seq, text) => {
    if (seq > mark) texts.push(text);
  });
  return texts;
}

// Every record /dev/kmsg still holds ("PRIO,SEQ,USEC,FLAGS;TEXT"), one read each; bounded.
function readKmsg(each: (seq: number, text: string) => void): void {
  const fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  const buffer = Buffer.alloc(16_384);
  try {
    for (let reads = 0; reads < 1_000_000; reads++) {
      let length: number;
      try {
        length = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // EPIPE: records were overwritten while reading; the next read goes on.
        if (code === 'EPIPE') continue;
        if (code === 'EAGAIN') return;
        throw error;
      }
      const record = buffer.toString('utf8', 0, length);
      const semicolon = record.indexOf(';');
      each(Number(record.split(',')[1]), record.slice(semicolon + 1).split('\n')[0] ?? '');
    }
  } finally {
    closeSync(fd);
  }
}
