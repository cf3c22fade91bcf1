import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser, type LineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config } from '../helpers/engine.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const SECOND = 1000;
const DAY = 86_400_000;
const A = '203.0.113.7';
const B = '198.51.100.1';
const timeParser = () => createSyslogTimeParser({ timeZone: 'UTC', reference: T0 });
const kern = createLineParser(loadFilterFile(builtinFilterPath('netfilter')), timeParser());
const sshd = createLineParser(loadFilterFile(builtinFilterPath('sshd')), timeParser());

const CONFIG = '[options]\nfirewall = dry-run\nmaxretry = 2\nbantime = 600\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 10\n';

function stamp(at: number): string {
  return new Date(at).toISOString().replace('Z', '000+00:00');
}

function knockLine(at: number, port: number, src = A): string {
  return `${stamp(at)} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${40000 + port} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

function failureLine(at: number, pid: number, src = A): string {
  return `${stamp(at)} gate sshd[${pid}]: Invalid user x from ${src} port 40000`;
}

// A line of another program, no event at all, but with a time of its own.
function otherLine(at: number): string {
  return `${stamp(at)} gate cron[77]: (root) CMD (run-parts /etc/cron.hourly)`;
}

interface Live {
  pipeline: Pipeline;
  decisions: Decision[];
  host: { now: () => number; set: (time: number) => void };
  feed: (parser: LineParser, ...lines: string[]) => string[];
}

// A pipeline as the daemon builds it, with a host clock the test moves.
function live(ini = CONFIG, withClock = true): Live {
  let now = T0;
  const host = { now: () => now, set: (time: number) => { now = time; } };
  const decisions: Decision[] = [];
  const pipeline = new Pipeline(config(ini), (decision) => decisions.push(decision), withClock ? { hostClock: host } : {});
  const feed = (parser: LineParser, ...lines: string[]): string[] => {
    const before = decisions.length;
    pipeline.handleLines(lines, parser);
    return decisions.slice(before).filter((d) => d.type !== 'step' && d.type !== 'failure').map((d) => `${d.type} ${d.src}`);
  };
  return { pipeline, decisions, host, feed };
}

function openGrant(run: Live): void {
  run.host.set(T0 + 2 * SECOND);
  expect(run.feed(kern, knockLine(T0 + SECOND, 7000), knockLine(T0 + 2 * SECOND, 8000))).toEqual([`completed ${A}`, `open ${A}`]);
}

function ban(run: Live): void {
  run.host.set(T0 + 2 * SECOND);
  expect(run.feed(sshd, failureLine(T0 + SECOND, 101, B), failureLine(T0 + 2 * SECOND, 102, B))).toEqual([`banned ${B}`]);
}

describe('pipeline time against the host clock', () => {
  it.each([
    ['a day ahead', T0 + DAY, 'future'],
    ['a year ahead', T0 + 365 * DAY, 'future'],
    ['61 s ahead', T0 + 61 * SECOND, 'future'],
    ['an hour behind', T0 - 3600 * SECOND, 'past'],
  ] as const)('opens nothing for a knock sequence stamped %s', (_name, at, direction) => {
    const run = live();
    expect(run.feed(kern, knockLine(at, 7000), knockLine(at + SECOND, 8000))).toEqual([]);
    expect(run.pipeline.grants()).toEqual([]);
    expect(run.pipeline.stats.outOfRange[direction]).toBe(2);
    expect(run.pipeline.now).toBeLessThanOrEqual(T0);
  });

  // A future line of any kind reaching the pipeline while a grant is open.
  it.each([
    ['a knock', () => knockLine(T0 + DAY, 7000, B), kern],
    ['an sshd line', () => failureLine(T0 + DAY, 200, B), sshd],
    ['a line that is no event', () => otherLine(T0 + DAY), kern],
  ])('keeps a live grant open past %s stamped a day ahead', (_name, line, parser) => {
    const run = live();
    openGrant(run);
    expect(run.feed(parser, line())).toEqual([]);
    expect(run.pipeline.grant(A, 'open')?.expires).toBe(T0 + 12 * SECOND);
    expect(run.pipeline.now).toBe(T0 + 2 * SECOND);
  });

  it.each([
    ['a knock', () => knockLine(T0 + DAY, 7000, A), kern],
    ['an sshd line', () => failureLine(T0 + DAY, 200, A), sshd],
    ['a line that is no event', () => otherLine(T0 + DAY), kern],
  ])('keeps a ban past %s stamped a day ahead', (_name, line, parser) => {
    const run = live();
    ban(run);
    expect(run.feed(parser, line())).toEqual([]);
    expect(run.pipeline.bannedUntil(B, T0 + 3 * SECOND)).toBe(T0 + 602 * SECOND);
    // The banned address still cannot knock.
    run.host.set(T0 + 4 * SECOND);
    expect(run.feed(kern, knockLine(T0 + 3 * SECOND, 7000, B), knockLine(T0 + 4 * SECOND, 8000, B))).toEqual([`refused ${B}`, `refused ${B}`]);
  });

  it('does not ban for sshd failures stamped a day ahead', () => {
    const run = live();
    expect(run.feed(sshd, failureLine(T0 + DAY, 101), failureLine(T0 + DAY + SECOND, 102))).toEqual([]);
    expect(run.pipeline.bans()).toEqual([]);
    expect(run.pipeline.stats.outOfRange).toEqual({ future: 2, past: 0 });
  });

  it('acts on lines within the tolerance with their own time', () => {
    const run = live();
    // 59 s ahead: a clock a little off is no attack.
    expect(run.feed(kern, knockLine(T0 + 58 * SECOND, 7000), knockLine(T0 + 59 * SECOND, 8000))).toEqual([`completed ${A}`, `open ${A}`]);
    expect(run.pipeline.grant(A, 'open')?.expires).toBe(T0 + 69 * SECOND);
    // 5 min behind: a late logger, still acted on with the line's own time.
    expect(run.feed(kern, knockLine(T0 - 300 * SECOND, 7000, B), knockLine(T0 - 299 * SECOND, 8000, B))).toEqual([`completed ${B}`, `open ${B}`]);
    expect(run.pipeline.stats.outOfRange).toEqual({ future: 0, past: 0 });
  });

  it('without a host clock (replay) takes the log time as it is', () => {
    const run = live(CONFIG, false);
    openGrant(run);
    expect(run.feed(kern, knockLine(T0 + DAY, 7000, B), knockLine(T0 + DAY + SECOND, 8000, B))).toEqual([`expire ${A}`, `completed ${B}`, `open ${B}`]);
    expect(run.pipeline.now).toBe(T0 + DAY + SECOND);
  });
});
