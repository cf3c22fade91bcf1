import { spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { followDaemonLog, spawnDaemon, waitFor } from './helpers/lab.js';

// The per-source LOG limit for real: a SYN flood from one address reaches the kernel log only
// as far as the limit lets it, and a knock at human speed from another address right after
// opens the door. Knocks are read from /dev/kmsg (no --log, auth_source = none): no rsyslogd.
const missing = missingPrerequisites(['ip', 'nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'sysctl'], true);
explainSkip('end-to-end LOG limit tests', missing);

const HELPERS = join(packageRoot(), 'test/e2e/helpers');
const BIN = join(packageRoot(), 'dist/src/cli/bin.js');
const RATE = 20;
const BURST = 60;
const FLOOD = 2000;

function sh(file: string, args: readonly string[]): string {
  const result = spawnSync(file, [...args], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

// The kernel log from now on, read as the daemon reads it (one record per read).
class KmsgReader {
  private readonly fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  private readonly buffer = Buffer.alloc(16_384);
  lost = 0;

  constructor() {
    this.read();
  }

  read(): string[] {
    const records: string[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      try {
        const size = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
        records.push(this.buffer.toString('utf8', 0, size));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        // Records overwritten before they were read.
        if (code === 'EPIPE') this.lost++;
        else throw error;
      }
    }
    return records;
  }

  close(): void {
    closeSync(this.fd);
  }
}

// The kernel prints IPv6 addresses in full: fd00:0210:0001:0000:0000:0000:0000:0002.
function kernelAddress(address: string): string {
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head.split(':').filter(Boolean);
  const right = tail.split(':').filter(Boolean);
  return [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right].map((group) => group.padStart(4, '0')).join(':');
}

describe.skipIf(missing.length > 0).each([
  { backend: 'nftables', tag: 'n', link: 1 },
  { backend: 'iptables', tag: 'i', link: 2 },
])('the LOG limit with $backend, for real', ({ backend, tag, link }) => {
  const server = `kwe2e-lim${tag}-srv`;
  const client = `kwe2e-lim${tag}-cli`;
  const serverAddress = { 4: `10.210.${link}.1`, 6: `fd00:210:${link}::1` };
  const flooder = { 4: `10.210.${link}.2`, 6: `fd00:210:${link}::2` };
  const knocker = `10.210.${link}.3`;
  // Only this suite's own LOG lines are counted: every namespace shares one kernel log.
  const prefix = `kwlim${tag}${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'knockwatch-e2e-limit-'));
  const controlSocket = join(dir, 'control.sock');
  let oldLogAllNetns = '0';
  let daemon: ChildProcess | undefined;
  let daemonLog = (): string => '';
  let kmsg: KmsgReader | undefined;
  // Per family, LOG records of the flooder in the kernel log, and how long its flood took.
  const flooded = new Map<4 | 6, { records: number; ms: number }>();

  const teardown = (): void => {
    if (daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    for (const ns of [server, client]) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  };

  beforeAll(async () => {
    teardown();
    oldLogAllNetns = readFileSync('/proc/sys/net/netfilter/nf_log_all_netns', 'utf8').trim();
    // The kernel logs netfilter LOG lines of other namespaces only with this.
    sh('sysctl', ['-q', '-w', 'net.netfilter.nf_log_all_netns=1']);
    for (const ns of [server, client]) {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh('ip', ['link', 'add', `kw210${tag}0`, 'netns', server, 'type', 'veth', 'peer', 'name', `kw210${tag}1`, 'netns', client]);
    sh('ip', ['-n', server, 'addr', 'add', `${serverAddress[4]}/24`, 'dev', `kw210${tag}0`]);
    sh('ip', ['-n', server, '-6', 'addr', 'add', `${serverAddress[6]}/64`, 'dev', `kw210${tag}0`, 'nodad']);
    for (const address of [`${flooder[4]}/24`, `${knocker}/24`]) sh('ip', ['-n', client, 'addr', 'add', address, 'dev', `kw210${tag}1`]);
    sh('ip', ['-n', client, '-6', 'addr', 'add', `${flooder[6]}/64`, 'dev', `kw210${tag}1`, 'nodad']);
    for (const [ns, side] of [[server, 0], [client, 1]] as const) sh('ip', ['-n', ns, 'link', 'set', `kw210${tag}${side}`, 'up']);
    const config = join(dir, 'knockwatch.ini');
    writeFileSync(config, `[options]
firewall = ${backend}
kernel_source = kmsg
auth_source = none
log_prefix = ${prefix}
log_limit = ${RATE}/second
log_burst = ${BURST}
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open = 22/tcp
open_for = 60
`);
    const logFile = join(dir, 'daemon.log');
    daemon = spawnDaemon(server, [process.execPath, BIN, 'run', '--config', config,
      '--state-file', join(dir, 'state.json'), '--control-socket', controlSocket], logFile);
    const log = followDaemonLog(daemon, logFile);
    daemonLog = log.text;
    await log.started;
    kmsg = new KmsgReader();
  }, 30_000);

  afterAll(() => {
    kmsg?.close();
    teardown();
    spawnSync('sysctl', ['-q', '-w', `net.netfilter.nf_log_all_netns=${oldLogAllNetns}`], { timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
  });

  // LOG records of `src` read from now until `ms` have passed with none coming.
  async function countRecords(src: string, quietMs = 300): Promise<number> {
    const mark = `${prefix} `;
    const from = `SRC=${kernelAddress(src)} `;
    let count = 0;
    let lastSeen = Date.now();
    await waitFor(`the LOG records of ${src}`, () => {
      const mine = (kmsg?.read() ?? []).filter((record) => record.includes(mark) && record.includes(from)).length;
      count += mine;
      if (mine > 0) lastSeen = Date.now();
      return count > 0 && Date.now() - lastSeen >= quietMs;
    }, 10_000, 50);
    return count;
  }

  function flood(family: 4 | 6): number {
    const result = spawnSync('ip', ['netns', 'exec', client, process.execPath, join(HELPERS, 'syn-flood.mjs'), serverAddress[family], '7000', String(FLOOD)],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, KNOCK_FROM: flooder[family] } });
    if (result.status !== 0) throw new Error(`flood failed: ${result.stderr}`);
    return Number(result.stdout.trim());
  }

  it.each([4, 6] as const)('a flood of 2,000 SYNs from one IPv%d address leaves at most burst + rate × its duration LOG records', async (family) => {
    const ms = flood(family);
    const records = await countRecords(flooder[family]);
    flooded.set(family, { records, ms });
    expect(ms).toBeLessThan(1000);
    expect(kmsg?.lost).toBe(0);
    // Every packet is a SYN of its own: the whole burst is logged, then the rate.
    expect(records).toBeGreaterThanOrEqual(BURST);
    expect(records).toBeLessThanOrEqual(BURST + Math.ceil(RATE * (ms / 1000 + 0.1)));
  });

  it('a knock at human speed from another address right after opens the door, every step logged', async () => {
    const sources = backend === 'nftables'
      ? () => sh('ip', ['netns', 'exec', server, 'nft', 'list', 'set', 'inet', 'knockwatch', 'loglimit4'])
      : () => sh('ip', ['netns', 'exec', server, 'cat', `/proc/net/ipt_hashlimit/knockwatch-log4-${RATE}-${BURST}-32`]);
    // The flooder is still in the limit's table.
    expect(sources()).toContain(flooder[4]);
    flood(4);
    const result = spawnSync('ip', ['netns', 'exec', client, process.execPath, join(HELPERS, 'knock.mjs'), serverAddress[4], '200', '7000', '8000', '9000/udp'],
      { encoding: 'utf8', timeout: 20_000, env: { ...process.env, KNOCK_FROM: knocker } });
    expect(result.status).toBe(0);
    await waitFor('the grant', () => daemonLog().includes(`Opened 22/tcp for ${knocker}`), 10_000);
    expect(await countRecords(knocker)).toBe(3);
    const installed = backend === 'nftables'
      ? sh('ip', ['netns', 'exec', server, 'nft', 'list', 'set', 'inet', 'knockwatch', 'grant4_0'])
      : sh('ip', ['netns', 'exec', server, 'iptables', '-w', '-S', 'KNOCKWATCH']);
    expect(installed).toContain(knocker);
  });

  it('the sources in the limit\'s table are no drift to the daemon\'s verify', async () => {
    // Fresh sources in the table, kept 3 s; the daemon verifies every 2 s.
    flood(4);
    const since = Date.now();
    const verified = (): { at: number; ok: boolean } | undefined => {
      const status = spawnSync(process.execPath, [BIN, 'status', '--json', '--control-socket', controlSocket], { encoding: 'utf8', timeout: 10_000 });
      return (JSON.parse(status.stdout) as { firewall: { lastVerify?: { at: number; ok: boolean } } }).firewall.lastVerify;
    };
    await waitFor('a verify after the floods', () => (verified()?.at ?? 0) > since, 10_000, 200);
    expect(verified()?.ok).toBe(true);
    expect(daemonLog()).not.toContain('is not what knockwatch installed');
    console.info(`${backend}: LOG records of one source flooding ${FLOOD} SYNs: ${[...flooded].map(([family, { records, ms }]) => `IPv${family} ${records} in ${Math.round(ms)} ms`).join(', ')}`);
  });
});
