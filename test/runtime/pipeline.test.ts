import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config } from '../helpers/engine.js';

const filter = loadFilterFile(builtinFilterPath('netfilter'));

function logLine(second: number, src: string, port: number): string {
  return `2026-11-22T09:00:${String(second).padStart(2, '0')}.000000+00:00 gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${40000 + second} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

function replay(ini: string, lines: string[]): { decisions: string[]; pipeline: Pipeline } {
  const decisions: Decision[] = [];
  const pipeline = new Pipeline(config(ini), (decision) => decisions.push(decision));
  pipeline.handleLines(lines, createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference: 0 })));
  return { decisions: decisions.filter((d) => d.type !== 'step').map((d) => `${d.type} ${d.src}`), pipeline };
}

// The admin's own LOG rules (dry-run), so any log prefix counts unless log_prefix says.
const DOOR = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 10\n';
const A = '203.0.113.7';

describe('pipeline', () => {
  it('opens and later expires a grant on the log clock', () => {
    const { decisions } = replay(DOOR, [logLine(1, A, 7000), logLine(2, A, 8000), logLine(30, '198.51.100.1', 22)]);
    expect(decisions).toEqual([`completed ${A}`, `open ${A}`, `expire ${A}`]);
  });

  it('counts LOG lines on ports no door uses without parsing them', () => {
    const { pipeline } = replay(DOOR, [logLine(1, A, 1234), logLine(2, A, 7000)]);
    expect(pipeline.stats).toMatchObject({ lines: 2, otherPort: 1, matched: 1, knocks: 1 });
  });

  it('hands every packet to a strict door, so another port still breaks it', () => {
    const { decisions, pipeline } = replay(`${DOOR}strict = yes\n`, [logLine(1, A, 7000), logLine(2, A, 1234), logLine(3, A, 8000)]);
    expect(decisions).toEqual([`broken ${A}`]);
    expect(pipeline.stats.otherPort).toBe(0);
  });

  it('never skips an sshd line for a DPT= a client put in its user name', () => {
    const sshd = createLineParser(loadFilterFile(builtinFilterPath('sshd')), createSyslogTimeParser({ timeZone: 'UTC', reference: 0 }));
    const decisions: Decision[] = [];
    const pipeline = new Pipeline(config(`[options]\nfirewall = dry-run\nmaxretry = 2\n${DOOR.replace('[options]\nfirewall = dry-run\n', '')}`), (d) => decisions.push(d));
    const line = (second: number) => `2026-11-22T09:00:0${second}.000000+00:00 gate sshd[${100 + second}]: Invalid user x DPT=1 from ${A} port 4000${second}`;
    pipeline.handleLines([line(1), line(2)], sshd);
    expect(pipeline.stats.otherPort).toBe(0);
    const at = (second: number): number => Date.parse(`2026-11-22T09:00:0${second}Z`);
    // maxretry = 2 and the default bantime of 10 minutes, from the second failure
    expect(decisions).toEqual([
      { type: 'failure', time: at(1), src: A, count: 1 },
      { type: 'failure', time: at(2), src: A, count: 2 },
      { type: 'banned', time: at(2), src: A, until: at(2) + 600_000, failures: 2, offense: 1 },
    ]);
  });

  it('refuses the knocks of an address banned for failed logins, until the ban is over', () => {
    const sshd = createLineParser(loadFilterFile(builtinFilterPath('sshd')), createSyslogTimeParser({ timeZone: 'UTC', reference: 0 }));
    const kern = createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference: 0 }));
    const decisions: Decision[] = [];
    const pipeline = new Pipeline(config(`${DOOR.replace('[options]\n', '[options]\nmaxretry = 2\nbantime = 20\n')}`), (d) => decisions.push(d));
    const failure = (second: number) => `2026-11-22T09:00:0${second}.000000+00:00 gate sshd[${100 + second}]: Invalid user x from ${A} port 4000${second}`;
    pipeline.handleLines([failure(1), failure(2)], sshd);
    pipeline.handleLines([logLine(3, A, 7000), logLine(4, A, 8000)], kern);
    pipeline.handleLines([logLine(23, A, 7000), logLine(24, A, 8000)], kern);
    expect(decisions.filter((d) => d.type !== 'step').map((d) => (d.type === 'refused' ? `refused ${d.reason}` : d.type)))
      .toEqual(['failure', 'failure', 'banned', 'refused banned', 'refused banned', 'unbanned', 'completed', 'open']);
    expect(pipeline.bans()).toEqual([]);
  });

  it('ends the attempts in progress of an address it bans', () => {
    const sshd = createLineParser(loadFilterFile(builtinFilterPath('sshd')), createSyslogTimeParser({ timeZone: 'UTC', reference: 0 }));
    const kern = createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference: 0 }));
    const decisions: Decision[] = [];
    const pipeline = new Pipeline(config(`${DOOR.replace('[options]\n', '[options]\nmaxretry = 2\nbantime = 2\n')}`), (d) => decisions.push(d));
    const failure = (second: number) => `2026-11-22T09:00:0${second}.000000+00:00 gate sshd[${100 + second}]: Invalid user x from ${A} port 4000${second}`;
    pipeline.handleLines([logLine(1, A, 7000)], kern);
    pipeline.handleLines([failure(2), failure(3)], sshd);
    // the ban is over at 5 s; the attempt begun at 1 s would still be within seq_timeout
    pipeline.handleLines([logLine(6, A, 8000)], kern);
    expect(decisions.map((d) => d.type)).toEqual(['step', 'failure', 'failure', 'banned', 'unbanned']);
  });

  it('counts evictions in its stats and snapshot', () => {
    const { pipeline } = replay(`${DOOR.replace('[options]\n', '[options]\nmax_tracked = 1\nmax_first_steps = 0\n')}`, [logLine(1, A, 7000), logLine(2, '198.51.100.1', 7000)]);
    expect(pipeline.stats.evicted).toBe(1);
    expect(pipeline.snapshot()).toMatchObject({ tracked: 1, attempts: [{ door: 'open', sources: ['198.51.100.1'] }], stats: { evicted: 1, evictedAttempts: 1, knocks: 2 } });
  });

  it('counts evicted first steps, and a trapped source evicted with no attempt as a source only', () => {
    const ini = DOOR.replace('[options]\n', '[options]\nmax_tracked = 1\nmax_first_steps = 1\ntrap_ports = 7500\n');
    const { pipeline } = replay(ini, [logLine(1, A, 7000), logLine(2, '198.51.100.1', 7000), logLine(3, '198.51.100.2', 7500), logLine(4, '198.51.100.3', 7500)]);
    expect(pipeline.snapshot().stats).toMatchObject({ evicted: 2, evictedAttempts: 1 });
  });

  // The value in a reason is whatever the line's writer put there.
  const invalidAs = (values: string[]): Map<string, number> => {
    const pipeline = new Pipeline(config(DOOR), () => {});
    let next = 0;
    const parse = createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference: 0 }),
      () => ({ ok: false, reason: `invalid source address "${values[next++]}"` }));
    pipeline.handleLines(values.map(() => logLine(1, A, 7000)), parse);
    return pipeline.stats.invalidReasons;
  };

  it('shows what was invalid in a line, made harmless and short', () => {
    const hostile = `\u001b]0;owned\u0007"\\é${'9'.repeat(100)}`;
    expect([...invalidAs(['999.1.1.1', '999.1.1.1', hostile])]).toEqual([
      ['invalid source address "999.1.1.1"', 2],
      ['invalid source address "\\x1b]0;owned\\x07\\x22\\x5c\\xe9999999999999..."', 1],
    ]);
  });

  // Printable ASCII from the space to the tilde stays; DEL and Latin-1 become \xNN, the rest \u{...}.
  it.each([
    ['a space', 'a b', '"a b"'],
    ['DEL', 'a\u007fb', '"a\\x7fb"'],
    ['the last Latin-1 character', '\u00ff', '"\\xff"'],
    ['a character past Latin-1', '\u20ac', '"\\u{20ac}"'],
  ])('keeps %s in an invalid value printable', (_name, value, shown) => {
    expect([...invalidAs([value]).keys()]).toEqual([`invalid source address ${shown}`]);
  });

  it('keeps at most 20 distinct invalid values, and counts the rest together', () => {
    const reasons = invalidAs(Array.from({ length: 25 }, (_, i) => `999.0.0.${i}`));
    expect(reasons.size).toBe(21);
    expect(reasons.get('invalid source address "999.0.0.19"')).toBe(1);
    expect(reasons.get('invalid source address "…"')).toBe(5);
  });

  it('counts only knocks with the configured log prefix', () => {
    const other = logLine(2, A, 8000).replace('KNOCK IN=', '[UFW BLOCK] IN=');
    const { decisions, pipeline } = replay(DOOR.replace('[options]\n', '[options]\nlog_prefix = KNOCK\n'), [logLine(1, A, 7000), other]);
    expect(decisions).toEqual([]);
    expect(pipeline.stats.otherPrefix).toBe(1);
  });
});
