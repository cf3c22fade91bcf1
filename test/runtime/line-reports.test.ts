import { describe, expect, it } from 'vitest';
import { LineReports } from '../../src/runtime/line-reports.js';

const MINUTE = 60_000;

function stats(invalid: number, stale = 0, future = 0, past = 0): { stale: number; invalid: number; invalidReasons: Map<string, number>; outOfRange: { future: number; past: number } } {
  return { stale, invalid, invalidReasons: new Map([['invalid source address "…"', invalid]]), outOfRange: { future, past } };
}

describe('reports of lines not acted on', () => {
  it('sums up invalid lines at most once a minute, counting what came in between', () => {
    const messages: string[] = [];
    const reports = new LineReports((event) => messages.push(`${event.level} ${event.message}`));
    reports.report(stats(2), 0);
    reports.report(stats(5), MINUTE - 1);
    expect(messages).toEqual(['warning Skipped 2 invalid log lines (invalid source address "…").']);
    reports.report(stats(5), MINUTE);
    expect(messages.at(-1)).toBe('warning Skipped 3 invalid log lines (invalid source address "…").');
    reports.report(stats(5), 3 * MINUTE);
    expect(messages).toHaveLength(2);
  });

  it('reports stale knocks as they come, and out-of-range lines once a minute', () => {
    const messages: string[] = [];
    const reports = new LineReports((event) => messages.push(event.message));
    reports.report(stats(0, 3, 1, 0), 0);
    reports.report(stats(0, 4, 2, 0), 1000);
    expect(messages.filter((m) => m.startsWith('Not acting on'))).toEqual([
      "Not acting on 3 knocks older than the doors' seq_timeout (logged while knockwatch was not running).",
      "Not acting on 1 log line stamped too far from the host clock (1 more than 60s ahead, 0 more than 10 min behind): forged lines, another program's lines or a clock step.",
      "Not acting on 1 knock older than the doors' seq_timeout (logged while knockwatch was not running).",
    ]);
  });

  it('counts a new pipeline from zero after a reset, keeping the once-a-minute limit', () => {
    const messages: string[] = [];
    const reports = new LineReports((event) => messages.push(event.message));
    reports.report(stats(4), 0);
    reports.reset();
    reports.report(stats(1), 1000);
    reports.report(stats(1), MINUTE);
    expect(messages).toEqual([
      'Skipped 4 invalid log lines (invalid source address "…").',
      'Skipped 1 invalid log line (invalid source address "…").',
    ]);
  });
});
