import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../src/config/load-config.js';
import { loadFilterFile } from '../src/filters/load-filter.js';
import { builtinFilterPath, demoConfigPath } from '../src/runtime/package-paths.js';
import { replayFiles } from '../src/runtime/replay.js';
import { generateKernLog } from './generate-kern-log.js';
import { measureGrantLatency } from './latency.js';
import { measureSshdParse } from './sshd-parse.js';

// `npm run bench`: prints figures; it asserts nothing and never fails on speed.
async function main(): Promise<void> {
  const [mode, path] = process.argv.slice(2);
  if (mode === 'generate' && path !== undefined) {
    const bytes = await generateKernLog(path, {
      lines: 1_000_000, sources: 100_000, logShare: 0.7, start: Date.parse('2026-11-22T00:00:00Z'), linesPerSecond: 300,
    });
    process.stdout.write(String(bytes));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'knockwatch-bench-'));
  try {
    const log = join(dir, 'kern.log');
    const lines = 1_000_000;
    // Generated in a child process, so the peak RSS below is the replay's own.
    const bytes = Number(execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'generate', log]).toString());
    console.log(`replay: generated ${lines.toLocaleString('en')} lines (${(bytes / 1048576).toFixed(0)} MiB), 70% LOG lines from 100,000 sources`);
    const config = loadConfigFile(demoConfigPath());
    const filter = loadFilterFile(builtinFilterPath('netfilter'));
    let decisions = 0;
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const result = await replayFiles({
      files: [log], config, filter, timeZone: 'UTC', clock: { now: () => 0 }, sink: () => { decisions++; },
    });
    const seconds = (performance.now() - started) / 1000;
    const peakRss = process.resourceUsage().maxRSS * 1024;
    console.log(`replay: ${result.stats.lines.toLocaleString('en')} lines in ${seconds.toFixed(2)} s = ${Math.round(result.stats.lines / seconds).toLocaleString('en')} lines/s (whole pipeline, one thread; target >= 1,000,000)`);
    console.log(`replay: ${result.stats.knocks.toLocaleString('en')} knocks, ${decisions.toLocaleString('en')} decisions, ${result.stats.granted.size} addresses granted`);
    console.log(`replay: peak RSS ${(peakRss / 1048576).toFixed(0)} MiB (before the replay ${(rssBefore / 1048576).toFixed(0)} MiB; target < 200 MiB)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  measureSshdParse();
  await measureGrantLatency();
}

await main();
