import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findProgram } from '../src/firewall/select-backend.js';
import { FleetLab, KNOCK_STEPS } from '../test/e2e/helpers/fleet-lab.js';
import { waitFor } from '../test/e2e/helpers/lab.js';

const KNOCKS = 20;
const STEP_GAP = 50;
// A knock whose door on B is not open this long after its last step is a failure.
const OPEN_TIMEOUT = 5000;
const PROBE_EVERY = 1;
const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);

// A knock on host A opening host B through Redis: from the last knock packet sent to A to a new
// TCP connection to B's port 22 succeeding, both timed by one process in the client's namespace.
// The fleet lab of the end-to-end tests: two nftables hosts reading kmsg, redis-server with an
// ACL user in a namespace of its own.
export async function measureFleetLatency(): Promise<void> {
  const missing = ['ip', 'nft', 'redis-server'].filter((program) => !findProgram(program));
  if (process.getuid?.() !== 0) missing.push('root');
  if (missing.length > 0) {
    console.log(`fleet latency: skipped (needs ${missing.join(', ')})`);
    return;
  }
  const lab = new FleetLab();
  const samples: number[] = [];
  const failures: string[] = [];
  try {
    await lab.up();
    await lab.startDaemon(lab.a, lab.config(lab.a, { openFor: 300 }));
    await lab.startDaemon(lab.b, lab.config(lab.b, { openFor: 300 }));
    await waitFor('both hosts to join the group', () => [lab.a, lab.b].every((host) => host.log().includes('Fleet: resynchronised')), 15_000);
    for (let i = 0; i < KNOCKS; i++) {
      // Every knock from an address of its own: nothing is open for it before.
      const from = `10.221.9.${20 + i}`;
      lab.addClientAddress(from);
      try {
        const { stdout } = await run('ip', ['netns', 'exec', lab.client, process.execPath, SELF, 'probe', lab.a.address, lab.b.address, from], { timeout: OPEN_TIMEOUT + 10_000 });
        const result = JSON.parse(stdout) as { ms?: number; error?: string };
        if (result.ms === undefined) failures.push(`${from}: ${result.error}`);
        else samples.push(result.ms);
      } catch (error) {
        failures.push(`${from}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    await lab.stopDaemon(lab.a).catch(() => undefined);
    await lab.stopDaemon(lab.b).catch(() => undefined);
    lab.down();
  }
  samples.sort((x, y) => x - y);
  const at = (q: number): string => (samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] ?? NaN).toFixed(1);
  const failed = failures.length === 0 ? '' : `, ${failures.length} FAILED`;
  console.log(`fleet latency: last knock sent to A -> new TCP connection to B succeeds (${KNOCKS} knocks, kmsg + nftables, Redis in a namespace): median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms${failed} (target: median < 100 ms)`);
  for (const failure of failures) console.log(`fleet latency:   ${failure}`);
}

// In the client's namespace: knocks on KNOCK_HOST from FROM, then starts a connect to
// PROBE_HOST:22 every millisecond until one gets through; prints {"ms": N} or {"error": "..."}.
async function probe(knockHost: string, probeHost: string, from: string): Promise<void> {
  const sockets: net.Socket[] = [];
  const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  try {
    for (const [index, step] of KNOCK_STEPS.entries()) {
      if (index > 0) await pause(STEP_GAP);
      const [port = '', proto = 'tcp'] = step.split('/');
      if (proto === 'udp') {
        const socket = dgram.createSocket('udp4');
        await new Promise<void>((resolve) => socket.bind({ address: from }, resolve));
        await new Promise<void>((resolve, reject) => socket.send('knock', Number(port), knockHost, (error) => (error ? reject(error) : resolve())));
        socket.close();
      } else {
        const socket = net.connect({ host: knockHost, port: Number(port), localAddress: from });
        socket.on('error', () => undefined);
        sockets.push(socket);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const sent = performance.now();
    const connected = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        if (performance.now() - sent > OPEN_TIMEOUT) {
          clearInterval(timer);
          reject(new Error('B did not open before the deadline'));
          return;
        }
        const socket = net.connect({ host: probeHost, port: 22, localAddress: from });
        socket.on('error', () => undefined);
        sockets.push(socket);
        socket.once('connect', () => {
          clearInterval(timer);
          resolve(performance.now());
        });
      }, PROBE_EVERY);
    });
    process.stdout.write(`${JSON.stringify({ ms: connected - sent })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

const [mode, knockHost, probeHost, from] = process.argv.slice(2);
if (mode === 'probe' && knockHost !== undefined && probeHost !== undefined && from !== undefined) await probe(knockHost, probeHost, from);
