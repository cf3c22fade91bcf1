import { loadFilterFile } from '../src/filters/load-filter.js';
import { createLineParser } from '../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../src/filters/syslog-time.js';
import { builtinFilterPath } from '../src/runtime/package-paths.js';
import { generateAuthLines } from './generate-auth-log.js';

const LINES = 200_000;

// sshd-line parse throughput: syslog envelope, time stamp, sshd filter, event building.
export function measureSshdParse(): void {
  const lines = generateAuthLines(LINES, Date.parse('2026-11-22T00:00:00Z'));
  const filter = loadFilterFile(builtinFilterPath('sshd'));
  const rates: number[] = [];
  let matched = 0;
  for (let round = 0; round < 5; round++) {
    const parse = createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2026-12-31T00:00:00Z') }));
    matched = 0;
    const started = performance.now();
    for (const line of lines) if (parse(line).status === 'event') matched++;
    rates.push(LINES / ((performance.now() - started) / 1000));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)] ?? 0;
  const best = rates.at(-1) ?? 0;
  console.log(`sshd: ${LINES.toLocaleString('en')} mixed sshd lines (${matched.toLocaleString('en')} events): median ${Math.round(median).toLocaleString('en')} lines/s, best ${Math.round(best).toLocaleString('en')} of 5 runs, one thread (target >= 500,000)`);
}
