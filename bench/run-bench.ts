import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../src/config/load-config.js';
import { loadFilterFile } from '../src/filters/load-filter.js';
import { builtinFilterPath, demoConfigPath } from '../src/runtime/package-paths.js';
import { replayFiles } from '../src/runtime/replay.js';
import { measureFail2banRegex } from './fail2ban-regex.js';
import { generateFloodLog, generateKernLog } from './generate-kern-log.js';
import { measureGrantLatency } from './latency.js';
import { compareWithSshguard } from './sshguard-compare.js';
import { measureSshdParse } from './sshd-parse.js';

const LINES = 1_000_000;
const START = Date.parse('2026-11-22T00:00:00Z');

interface Workload {
  name: string;
  what: string;
  generate: (path: string) => Promise<number>;
}

const WORKLOADS: readonly Workload[] = [
  {
    name: 'mixed',
    what: '70% LOG lines from 100,000 sources, 5% of them on door or trap ports',
    generate: (path) => generateKernLog(path, { lines: LINES, sources: 100_000, logShare: 0.7, doorShare: 0.05, ipv6Share: 0, start: START, linesPerSecond: 300 }),
  },
  {
    name: 'doors',
    what: '70% LOG lines from 100,000 sources, every one on a door or trap port, TCP and UDP, 20% IPv6',
    generate: (path) => generateKernLog(path, { lines: LINES, sources: 100_000, logShare: 0.7, doorShare: 1, ipv6Share: 0.2, start: START, linesPerSecond: 300 }),
  },
  {
    name: 'flood',
    what: 'every line a SYN from a new spoofed source on the first knock port',
    generate: (path) => generateFloodLog(path, { lines: LINES, start: START, linesPerSecond: 50_000 }),
  },
];

interface ReplayFigures {
  lines: number;
  seconds: number;
  // CPU time of the replay (user + system): on a busy machine, closer to the work done.
  cpuSeconds: number;
  knocks: number;
  decisions: number;
  granted: number;
  peakRss: number;
}

// `npm run bench`: prints figures; it asserts nothing and never fails on speed. Each log is
// generated and replayed in child processes of its own, so each peak RSS is one replay's.
async function main(): Promise<void> {
  const [mode, name, path] = process.argv.slice(2);
  const workload = WORKLOADS.find((candidate) => candidate.name === name);
  if (mode === 'generate' && workload !== undefined && path !== undefined) {
    process.stdout.write(String(await workload.generate(path)));
    return;
  }
  if (mode === 'replay' && path !== undefined) {
    process.stdout.write(JSON.stringify(await replayOnce(path)));
    return;
  }
  // The same log replayed twice in one process, the second measured: by then V8 has compiled
  // the pipeline's code, as in a daemon that has been running a while.
  if (mode === 'replay-warm' && path !== undefined) {
    await replayOnce(path);
    process.stdout.write(JSON.stringify(await replayOnce(path)));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'knockwatch-bench-'));
  try {
    for (const { name: workloadName, what } of WORKLOADS) {
      if (mode === 'throughput' && name !== undefined && name !== workloadName) continue;
      const log = join(dir, `${workloadName}.log`);
      const bytes = Number(runSelf(['generate', workloadName, log]));
      const figures = JSON.parse(runSelf(['replay', workloadName, log])) as ReplayFigures;
      const label = `replay ${workloadName}`;
      console.log(`${label}: ${LINES.toLocaleString('en')} lines (${(bytes / 1048576).toFixed(0)} MiB), ${what}`);
      console.log(`${label}: ${figures.lines.toLocaleString('en')} lines in ${figures.seconds.toFixed(2)} s = ${perSecond(figures.lines, figures.seconds)} lines/s (whole pipeline, one thread, first replay in a new process; target >= 1,000,000); CPU ${figures.cpuSeconds.toFixed(2)} s = ${perSecond(figures.lines, figures.cpuSeconds)} lines per CPU second`);
      console.log(`${label}: ${figures.knocks.toLocaleString('en')} knocks, ${figures.decisions.toLocaleString('en')} decisions, ${figures.granted} addresses granted; peak RSS ${(figures.peakRss / 1048576).toFixed(0)} MiB (target < 150 MiB)`);
      const warm = JSON.parse(runSelf(['replay-warm', workloadName, log])) as ReplayFigures;
      console.log(`${label}, warm (the same log again in the process that just replayed it, its code compiled): ${perSecond(warm.lines, warm.seconds)} lines/s; CPU ${warm.cpuSeconds.toFixed(2)} s = ${perSecond(warm.lines, warm.cpuSeconds)} lines per CPU second (target >= 1,000,000 on one core)`);
      if (workloadName === 'doors') {
        const fail2ban = measureFail2banRegex(log, 100_000, dir);
        if (fail2ban === undefined) {
          console.log(`${label}: fail2ban-regex not installed, no comparison`);
        } else {
          const ratio = figures.lines / figures.seconds / fail2ban.linesPerSecond;
          console.log(`${label}: fail2ban-regex on the first ${fail2ban.lines.toLocaleString('en')} lines: ${Math.round(fail2ban.linesPerSecond).toLocaleString('en')} lines/s (${fail2ban.matched.toLocaleString('en')} matched); knockwatch ${ratio.toFixed(0)}x`);
        }
      }
      rmSync(log, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // `throughput` stops here: the replay workloads alone.
  if (mode === 'throughput') return;
  measureSshdParse();
  compareWithSshguard();
  await measureGrantLatency();
  await (await import('./fleet-latency.js')).measureFleetLatency();
}

async function replayOnce(log: string): Promise<ReplayFigures> {
  const config = loadConfigFile(demoConfigPath());
  const filter = loadFilterFile(builtinFilterPath('netfilter'));
  let decisions = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await replayFiles({
    files: [log], config, filter, timeZone: 'UTC', clock: { now: () => 0 }, sink: () => { decisions++; },
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    lines: result.stats.lines, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, knocks: result.stats.knocks, decisions, granted: result.stats.granted.size,
    peakRss: peakRss(),
  };
}

// This process's own peak RSS. Not getrusage's maxRSS: Linux carries that over from the
// process image before exec, so a replay started by a parent that once held more (the
// fail2ban comparison reads a log) reported the parent's peak.
function peakRss(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'latin1'));
  return hwm === null ? process.resourceUsage().maxRSS * 1024 : Number(hwm[1]) * 1024;
}

// Replays run with the node flags the knockwatch command runs with (its shebang line).
function runSelf(args: readonly string[]): string {
  return execFileSync(process.execPath, [...commandNodeFlags(), fileURLToPath(import.meta.url), ...args], { maxBuffer: 1 << 20 }).toString();
}

function commandNodeFlags(): string[] {
  const shebang = readFileSync(new URL('../src/cli/bin.js', import.meta.url), 'utf8').split('\n', 1)[0] ?? '';
  return /^#!\/usr\/bin\/env -S node(?: |$)/.test(shebang) ? shebang.split(' ').slice(3) : [];
}

function perSecond(count: number, seconds: number): string {
  return Math.round(count / seconds).toLocaleString('en');
}

await main();
