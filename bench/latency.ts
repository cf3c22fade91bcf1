import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Lab } from '../test/e2e/helpers/lab.js';
import { findProgram } from '../src/firewall/select-backend.js';
import { QUIET_AFTER } from '../src/sources/kmsg-source.js';

const KNOCKS = 50;
// Knocks made after the kernel log has been quiet for longer than the kmsg source's quiet
// period: their first step finds the source on its idle poll. The last step must still be
// read at once, which back-to-back knocks (each keeping the source on its fast poll for the
// next) would not show.
const COLD_KNOCKS = 5;
const FLOOR_PROBES = 10;
const STEPS = ['7000', '8000', '9000/udp'];
// Between steps, as a knock client sends them.
const STEP_GAP = 50;
// A knock whose door is not open this long after its last step is a failure.
const OPEN_TIMEOUT = 5000;
const SUBNET = 208;
const PROBE = fileURLToPath(new URL('./latency-probe.js', import.meta.url));
const run = promisify(execFile);

interface Figures {
  samples: number[];
  failures: string[];
}

// From the last knock packet sent to a new TCP connection to the protected port succeeding,
// for the daemon reading kmsg and reading rsyslogd's kern.log, each with nftables.
export async function measureGrantLatency(): Promise<void> {
  const missing = ['ip', 'nft', 'iptables', 'rsyslogd'].filter((program) => !findProgram(program));
  if (process.getuid?.() !== 0) missing.push('root');
  if (missing.length > 0) {
    console.log(`latency: skipped (needs ${missing.join(', ')}: network namespaces, nft and rsyslogd)`);
    return;
  }
  const lab = new Lab({ name: 'kwlat', subnet: SUBNET });
  // Every knock from an address of its own, so that no grant is open before its knock (the
  // second daemon restores the first one's grants from the state file).
  const addresses = (first: number, count: number): string[] => Array.from({ length: count }, (_, i) => `10.${SUBNET}.1.${first + i}`);
  const kmsgAddresses = addresses(10, KNOCKS);
  const coldAddresses = addresses(70, COLD_KNOCKS);
  const fileAddresses = addresses(110, KNOCKS);
  // Only our own LOG records count: every namespace on the machine writes to one kernel log.
  const door = `log_prefix = kwlat\n[openSSH]\nsequence = ${STEPS.map((step) => step.replace('/', ':')).join(',')}\nseq_timeout = 5\nopen = 22/tcp\nopen_for = 120\n`;
  try {
    await lab.up();
    for (const address of [...kmsgAddresses, ...coldAddresses, ...fileAddresses]) {
      spawnSync('ip', ['-n', lab.client, 'addr', 'add', `${address}/24`, 'dev', `kw${SUBNET}c1`], { timeout: 10_000 });
    }
    await lab.startDaemon(lab.writeConfig(`[options]\nfirewall = nftables\nkernel_source = kmsg\nauth_source = none\n${door}`), [], false);
    if (lab.canConnect(lab.client)) throw new Error('the protected port is open before any knock');
    const kmsg = await knockAll(lab, kmsgAddresses);
    report(`kmsg + nftables, ${KNOCKS} knocks back to back`, kmsg, 'targets: median < 2 ms, p99 < 10 ms');
    // What the probe itself takes on this machine now: from an address already open, after
    // steps to ports no door uses (the same work in the probe's process, nothing logged).
    const floor: Figures = { samples: [], failures: [] };
    for (let i = 0; i < FLOOR_PROBES; i++) await knockOnce(lab, kmsgAddresses[0]!, floor, ['7001', '8001', '9001/udp']);
    report(`the floor: ${FLOOR_PROBES} probes from an address already open, after steps no door uses`, floor, 'the probe and the machine alone');
    const cold: Figures = { samples: [], failures: [] };
    for (const address of coldAddresses) {
      await new Promise((resolve) => setTimeout(resolve, QUIET_AFTER + 1000));
      await knockOnce(lab, address, cold);
    }
    report(`kmsg + nftables, ${COLD_KNOCKS} knocks each after ${(QUIET_AFTER + 1000) / 1000} s without a knock (first step on the idle poll)`, cold, 'the last step must still be read at once');
    await lab.stopDaemon('SIGTERM');
    await lab.startDaemon(lab.writeConfig(`[options]\nfirewall = nftables\n${door}`));
    const file = await knockAll(lab, fileAddresses);
    report(`file: rsyslogd's kern.log + nftables, ${KNOCKS} knocks back to back`, file, 'no target: rsyslogd and the file add ~3 ms');
  } finally {
    await lab.stopDaemon('SIGTERM').catch(() => undefined);
    lab.down();
  }
}

async function knockAll(lab: Lab, addresses: readonly string[]): Promise<Figures> {
  const figures: Figures = { samples: [], failures: [] };
  for (const address of addresses) await knockOnce(lab, address, figures);
  return figures;
}

// One knock from `address`, timed by the probe in the client's namespace.
async function knockOnce(lab: Lab, address: string, figures: Figures, steps = STEPS): Promise<void> {
  const argv = [PROBE, lab.serverAddressFor(lab.client), '22', address, String(STEP_GAP), String(OPEN_TIMEOUT), ...steps];
  try {
    const { stdout } = await run('ip', ['netns', 'exec', lab.client, process.execPath, '--expose-gc', ...argv], { timeout: OPEN_TIMEOUT + 10_000 });
    const result = JSON.parse(stdout) as { ms?: number; error?: string };
    if (result.ms === undefined) figures.failures.push(`${address}: ${result.error}`);
    else figures.samples.push(result.ms);
  } catch (error) {
    figures.failures.push(`${address}: ${(error as Error).message.split('\n')[0]}`);
  }
}

function report(what: string, figures: Figures, target: string): void {
  const samples = [...figures.samples].sort((a, b) => a - b);
  const at = (q: number): string => (samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] ?? NaN).toFixed(2);
  const failed = figures.failures.length === 0 ? '' : `, ${figures.failures.length} FAILED (not open ${OPEN_TIMEOUT / 1000} s after the last step)`;
  console.log(`latency: last knock sent -> new TCP connection succeeds (${what}): median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms${failed} (${target})`);
  for (const failure of figures.failures) console.log(`latency:   ${failure}`);
}
