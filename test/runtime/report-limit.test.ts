import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { LineReports } from '../../src/runtime/line-reports.js';
import { logEvents } from '../../src/runtime/log-events.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const evicted = (i: number): Decision => ({ type: 'broken', time: T0, src: `10.0.0.${i}`, door: 'open', reason: 'evicted', cap: 5 });
const trapped = (i: number): Decision => ({ type: 'trapped', time: T0, src: `10.0.1.${i}`, until: T0 + 60_000, knock: { port: 7500, proto: 'tcp' } });
const opened = (i: number): Decision => ({ type: 'open', time: T0, src: `10.0.2.${i}`, door: 'open', ports: [{ port: 22, proto: 'tcp' }], expires: T0 + 30_000 });

function reportsAt(): { messages: string[]; reports: LineReports; setNow: (t: number) => void } {
  const messages: string[] = [];
  let now = T0;
  const reports = new LineReports((event) => messages.push(event.message), () => now);
  return { messages, reports, setNow: (t) => { now = t; } };
}

const logDecision = (reports: LineReports, decision: Decision) => reports.log(logEvents.decision(decision) as NonNullable<ReturnType<typeof logEvents.decision>>);

describe('decision reports under a flood', () => {
  it('logs the first 20 of a kind in a minute one by one, counts the rest and sums them up when the minute is over', () => {
    const { messages, reports, setNow } = reportsAt();
    for (let i = 0; i < 1000; i++) logDecision(reports, evicted(i));
    for (let i = 0; i < 30; i++) logDecision(reports, trapped(i));
    expect(messages).toHaveLength(40);
    expect(messages[0]).toBe('Knock of 10.0.0.0 on open broken: evicted, more than 5 sources tracked.');
    reports.report({ stale: 0, invalid: 0, invalidReasons: new Map(), outOfRange: { future: 0, past: 0 } }, T0 + 59_999);
    expect(messages).toHaveLength(40);
    setNow(T0 + 60_000);
    reports.report({ stale: 0, invalid: 0, invalidReasons: new Map(), outOfRange: { future: 0, past: 0 } }, T0 + 60_000);
    expect(messages.slice(40)).toEqual(['Not logged one by one in the minute from 2026-11-22T09:00:00.000Z (past 20 of a kind in 1 min): 980 broken (evicted), 10 trapped.']);
    // a new minute: line by line again
    logDecision(reports, evicted(1));
    expect(messages).toHaveLength(42);
  });

  it('logs a knock at human speed line by line, and never holds back grants', () => {
    const { messages, reports } = reportsAt();
    for (let i = 0; i < 3; i++) logDecision(reports, evicted(i));
    for (let i = 0; i < 100; i++) logDecision(reports, opened(i));
    expect(messages).toHaveLength(103);
    reports.flush();
    expect(messages).toHaveLength(103);
  });

  // What changes the firewall, and who logs in or out: never held back, however many.
  const base = { time: T0, src: '10.0.3.1', door: 'open' };
  it.each<Decision>([
    { ...base, type: 'open', ports: [{ port: 22, proto: 'tcp' }], expires: T0 + 30_000 },
    { ...base, type: 'extend', expires: T0 + 30_000 },
    { ...base, type: 'close', by: 'logout' },
    { ...base, type: 'expire' },
    { ...base, type: 'completed' },
    { time: T0, src: '10.0.3.1', type: 'banned', until: T0 + 600_000, failures: 5, offense: 1 },
    { time: T0, src: '10.0.3.1', type: 'unbanned' },
    { time: T0, src: '10.0.3.1', type: 'login', user: 'root', pid: 42 },
    { time: T0, src: '10.0.3.1', type: 'logout', pid: 42, closeAt: T0 },
  ])('logs every $type one by one', (decision) => {
    const { messages, reports } = reportsAt();
    for (let i = 0; i < 100; i++) logDecision(reports, decision);
    reports.flush();
    expect(messages).toHaveLength(100);
  });

  it('counts a report stamped before the current minute (the host clock stepped back) in the current one', () => {
    const { messages, reports, setNow } = reportsAt();
    setNow(T0 + 60_000);
    for (let i = 0; i < 25; i++) logDecision(reports, trapped(i));
    setNow(T0 + 30_000);
    logDecision(reports, trapped(25));
    expect(messages).toHaveLength(20);
    reports.flush();
    expect(messages.slice(20)).toEqual(['Not logged one by one in the minute from 2026-11-22T09:01:00.000Z (past 20 of a kind in 1 min): 6 trapped.']);
  });

  it('sums up what the minute held back so far when flushed (the daemon stops)', () => {
    const { messages, reports } = reportsAt();
    for (let i = 0; i < 21; i++) logDecision(reports, trapped(i));
    reports.flush();
    expect(messages.at(-1)).toBe('Not logged one by one in the minute from 2026-11-22T09:00:00.000Z (past 20 of a kind in 1 min): 1 trapped.');
  });
});
