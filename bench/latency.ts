import { spawnSync } from 'node:child_process';
import { Lab, waitFor } from '../test/e2e/helpers/lab.js';
import { findProgram } from '../src/firewall/select-backend.js';

const KNOCKS = 50;

// From the last knock packet sent to the grant in force in the firewall (the daemon's
// "Opened" line, logged once nft has returned), over KNOCKS knocks from distinct client addresses.
export async function measureGrantLatency(): Promise<void> {
  const missing = ['ip', 'nft', 'iptables', 'rsyslogd'].filter((program) => !findProgram(program));
  if (process.getuid?.() !== 0) missing.push('root');
  if (missing.length > 0) {
    console.log(`latency: skipped (needs ${missing.join(', ')}: network namespaces, nft and rsyslogd)`);
    return;
  }
  const lab = new Lab({ name: 'kwbench', subnet: 205 });
  try {
    await lab.up();
    const sources = Array.from({ length: KNOCKS }, (_, i) => `10.205.1.${10 + i}`);
    for (const address of sources) spawnSync('ip', ['-n', lab.client, 'addr', 'add', `${address}/24`, 'dev', 'kw205c1']);
    const config = lab.writeConfig(`[options]\nfirewall = nftables\n[openSSH]\nsequence = 7000,8000,9000:udp\nseq_timeout = 5\nopen = 22/tcp\nopen_for = 60\n`);
    await lab.startDaemon(config, ['-v']);
    const samples: number[] = [];
    for (const address of sources) {
      const marker = `Opened 22/tcp for ${address} (door openSSH,`;
      let arrived = 0;
      const watch = (chunk: Buffer): void => {
        if (arrived === 0 && chunk.toString().includes(marker)) arrived = performance.timeOrigin + performance.now();
      };
      lab.daemon?.stderr?.on('data', watch);
      const sent = await lab.knock(lab.client, ['7000', '8000', '9000/udp'], 10, address);
      await waitFor(`the grant for ${address}`, () => arrived > 0 || lab.daemonLog.includes(marker), 10_000, 1);
      lab.daemon?.stderr?.off('data', watch);
      if (arrived === 0) arrived = performance.timeOrigin + performance.now();
      samples.push(arrived - sent);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number): number => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] ?? NaN;
    console.log(`latency: last knock sent -> grant in force (nftables, rsyslogd, ${KNOCKS} knocks): median ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${samples.at(-1)?.toFixed(1)} ms (targets: median < 20 ms, p99 < 100 ms)`);
  } finally {
    await lab.stopDaemon('SIGTERM').catch(() => undefined);
    lab.down();
  }
}
