import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config } from '../helpers/engine.js';

const parse = createLineParser(loadFilterFile(builtinFilterPath('netfilter')), createSyslogTimeParser({ timeZone: 'UTC', reference: 0 }));
const CONFIG = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000,9000\nstep_timeout = 5\nseq_timeout = 30\nopen_for = 10\n';
const A = '203.0.113.7';
const B = '198.51.100.1';
const C = '198.51.100.2';

const at = (second: number): number => Date.parse('2026-11-22T09:00:00Z') + second * 1000;

function logLine(second: number, src: string, port: number): string {
  const stamp = new Date(at(second)).toISOString().replace('Z', '000+00:00');
  return `${stamp} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${40000 + second} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

// C knocks with steps 4 s apart; A stops after two steps; B's second step comes 6 s late.
const LINES = [
  logLine(1, A, 7000), logLine(2, B, 7000), logLine(3, C, 7000), logLine(5, A, 8000),
  logLine(7, C, 8000), logLine(8, B, 8000), logLine(11, C, 9000), logLine(40, '192.0.2.99', 22),
];

const ends = (decisions: readonly Decision[]) => decisions.filter((d) => d.type !== 'step');

describe('pipeline: step_timeout', () => {
  it('breaks late steps and opens timely ones, at times taken from the log', () => {
    const decisions: Decision[] = [];
    new Pipeline(config(CONFIG), (d) => decisions.push(d)).handleLines(LINES, parse);
    expect(ends(decisions)).toEqual([
      { type: 'broken', time: at(7), src: B, door: 'open', reason: 'step-timeout', step: 2, within: 5000 },
      { type: 'broken', time: at(10), src: A, door: 'open', reason: 'step-timeout', step: 3, within: 5000 },
      { type: 'completed', time: at(11), src: C, door: 'open' },
      { type: 'open', time: at(11), src: C, door: 'open', ports: [{ port: 22, proto: 'tcp' }], expires: at(21) },
      { type: 'expire', time: at(21), src: C, door: 'open' },
    ]);
  });

  it('decides live, one line at a time with the clock moving between them, as a replay does', () => {
    const replayed: Decision[] = [];
    new Pipeline(config(CONFIG), (d) => replayed.push(d)).handleLines(LINES, parse);
    const live: Decision[] = [];
    const pipeline = new Pipeline(config(CONFIG), (d) => live.push(d));
    for (const line of LINES) {
      const time = parse.timeOf(line) as number;
      // the daemon's own ticks between lines
      pipeline.advanceTo(time - 300);
      pipeline.handleLines([line], parse);
    }
    expect(ends(live).map((d) => (d.type === 'broken' ? d.reason : d.type))).toEqual(['step-timeout', 'step-timeout', 'completed', 'open', 'expire']);
    expect(live).toEqual(replayed);
  });
});
