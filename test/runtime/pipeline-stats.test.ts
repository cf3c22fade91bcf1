import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config } from '../helpers/engine.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const A = '203.0.113.7';
const B = '198.51.100.1';
const C = '192.0.2.50';
const timeParser = () => createSyslogTimeParser({ timeZone: 'UTC', reference: T0 });
const kern = createLineParser(loadFilterFile(builtinFilterPath('netfilter')), timeParser());
const sshd = createLineParser(loadFilterFile(builtinFilterPath('sshd')), timeParser());

// Two doors: `open` of two steps, `ssh` of three.
const CONFIG = '[options]\nfirewall = dry-run\nmaxretry = 2\nbantime = 600\n'
  + '[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 10\n'
  + '[ssh]\nsequence = 9000,9100,9200\nseq_timeout = 5\nopen_for = 10\n';

function stamp(second: number): string {
  return new Date(T0 + second * 1000).toISOString().replace('Z', '000+00:00');
}

function knockLine(second: number, src: string, port: number): string {
  return `${stamp(second)} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${40000 + port} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

function failureLine(second: number, src: string): string {
  return `${stamp(second)} gate sshd[${100 + second}]: Invalid user x from ${src} port 40000`;
}

function pipelineOf(ini = CONFIG): { pipeline: Pipeline; decisions: Decision[] } {
  const decisions: Decision[] = [];
  return { pipeline: new Pipeline(config(ini), (decision) => decisions.push(decision)), decisions };
}

describe('pipeline stats', () => {
  it('counts each line by what the filter made of it', () => {
    const { pipeline } = pipelineOf();
    pipeline.handleLines([
      knockLine(1, A, 7000),
      // a kernel line with no DPT= (and a traditional stamp, whose day looks like a port)
      'Nov 22 09:00:02 gate kernel: eth0: link becomes ready',
      `${stamp(3)} gate cron[77]: (root) CMD (run-parts /etc/cron.hourly)`,
      knockLine(4, A, 8000).replace(`SRC=${A}`, 'SRC=999.1.1.1'),
    ], kern);
    expect(pipeline.stats).toMatchObject({ lines: 4, matched: 1, missed: 1, ignored: 1, invalid: 1, otherPort: 0, knocks: 1 });
  });

  it('counts LOG lines of other protocols and port-less fragments apart: not missed, no knock', () => {
    const { pipeline, decisions } = pipelineOf();
    const head = `${stamp(1)} gate kernel: KNOCK IN=eth0 OUT= SRC=${A} DST=192.0.2.1`;
    pipeline.handleLines([
      `${head} LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=2 DF PROTO=2 `,
      `${head} LEN=44 TOS=0x00 PREC=0x00 TTL=64 ID=3 DF PROTO=47 `,
      `${head} LEN=68 TOS=0x00 PREC=0x00 TTL=64 ID=4 FRAG:370 PROTO=TCP `,
      knockLine(2, A, 7000),
    ], kern);
    expect(pipeline.stats).toMatchObject({ lines: 4, matched: 1, missed: 0, otherProtocol: 3, knocks: 1 });
    expect(decisions.map((decision) => decision.type)).toEqual(['step']);
  });

  it('counts an empty batch as nothing and leaves the clock where it was', () => {
    const { pipeline } = pipelineOf();
    pipeline.handleLines([], kern);
    expect(pipeline.stats).toMatchObject({ lines: 0, matched: 0, missed: 0, ignored: 0 });
    expect(pipeline.now).toBe(-Infinity);
  });

  // What comes after DPT=, on a line for port 7000 otherwise: only a number that is a port
  // no door uses lets the line go unparsed.
  it.each([
    ['a port no door uses', '9999', { otherPort: 1, missed: 0, invalid: 0 }],
    ['the highest port, no door', '65535', { otherPort: 1, missed: 0, invalid: 0 }],
    ['a port no door uses, running into letters', '12345x', { otherPort: 1, missed: 0, invalid: 0 }],
    ['a number above any port', '99999', { otherPort: 0, missed: 0, invalid: 1 }],
    ['no number', 'x', { otherPort: 0, missed: 1, invalid: 0 }],
  ])('parses a line whose DPT= holds %s only when it may matter', (_name, dpt, counts) => {
    const { pipeline } = pipelineOf();
    pipeline.handleLines([knockLine(1, A, 7000).replace('DPT=7000', `DPT=${dpt}`)], kern);
    expect(pipeline.stats).toMatchObject({ lines: 1, ...counts });
  });

  it('counts per door the attempts started, completed and broken', () => {
    const { pipeline } = pipelineOf();
    pipeline.handleLines([
      // A opens `open`; B gets two steps into `ssh` (started once), then breaks `open`.
      knockLine(1, A, 7000), knockLine(2, A, 8000),
      knockLine(3, B, 9000), knockLine(4, B, 9100),
      knockLine(5, C, 7000), knockLine(6, C, 9200),
    ], kern);
    expect(pipeline.stats.doors).toEqual(new Map([
      ['open', { started: 2, completed: 1, broken: 1 }],
      ['ssh', { started: 1, completed: 0, broken: 0 }],
    ]));
    expect(pipeline.stats.evicted).toBe(0);
  });

  it('shows in its snapshot every door, with no sources for a door nobody is knocking on', () => {
    const { pipeline } = pipelineOf();
    pipeline.handleLines([knockLine(1, A, 7000)], kern);
    expect(pipeline.snapshot().attempts).toEqual([{ door: 'open', sources: [A] }, { door: 'ssh', sources: [] }]);
  });

  it('counts opens, closes of any kind, sshd events and bans', () => {
    const { pipeline, decisions } = pipelineOf();
    pipeline.handleLines([knockLine(1, A, 7000), knockLine(2, A, 8000), knockLine(3, B, 7000), knockLine(4, B, 8000)], kern);
    pipeline.closeGrant(A, 'open', T0 + 5000, 'admin');
    // B's grant expires at 14 s, on C's failed logins; the second bans C.
    pipeline.handleLines([failureLine(20, C), failureLine(21, C)], sshd);
    expect(decisions.filter((d) => d.type !== 'step' && d.type !== 'failure').map((d) => `${d.type} ${d.src}`))
      .toEqual([`completed ${A}`, `open ${A}`, `completed ${B}`, `open ${B}`, `close ${A}`, `expire ${B}`, `banned ${C}`]);
    expect(pipeline.snapshot().stats).toEqual({ lines: 6, knocks: 4, sshEvents: 2, invalid: 0, stale: 0, evicted: 0, evictedAttempts: 0, opens: 2, closes: 2, bans: 1 });
    expect(pipeline.stats.granted).toEqual(new Set([A, B]));
  });
});
