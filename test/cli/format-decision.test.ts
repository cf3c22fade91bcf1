import { describe, expect, it } from 'vitest';
import { decisionToJson, formatDecision } from '../../src/cli/format-decision.js';
import type { Refusal } from '../../src/doors/door-kind.js';
import { logEvents } from '../../src/runtime/log-events.js';

describe('decisionToJson', () => {
  it('writes every time of a decision as an ISO stamp, the close time of a logout included', () => {
    const at = Date.UTC(2026, 10, 22, 9, 0, 0);
    const json = decisionToJson({ type: 'logout', time: at, src: '203.0.113.7', pid: 41, closeAt: at + 10_000.5 });
    expect(JSON.parse(json)).toEqual({ type: 'logout', time: '2026-11-22T09:00:00.000Z', src: '203.0.113.7', pid: 41, closeAt: '2026-11-22T09:00:10.000Z' });
  });

  it('writes a lifetime without end as null', () => {
    const at = Date.UTC(2026, 10, 22, 9, 0, 0);
    expect(JSON.parse(decisionToJson({ type: 'extend', time: at, src: '203.0.113.7', door: 'ssh', expires: Infinity }))).toEqual({
      type: 'extend', time: '2026-11-22T09:00:00.000Z', src: '203.0.113.7', door: 'ssh', expires: null,
    });
  });
});

// A completed sequence its door refused: the replay line and the daemon's log say the true
// reason (before, every one of them read "another address used this one-time sequence first").
describe('a completed sequence the door refused', () => {
  const at = Date.UTC(2026, 10, 22, 9, 0, 0);
  it.each<[Refusal, string]>([
    // One-time doors.
    ['used', 'another address used this one-time sequence first'],
    ['unmarked', 'its line could not be marked used in the one-time sequences file (not writable, or full): the sequence is used up and opens nothing'],
    // Rotating doors.
    ['window-gone', 'its window is accepted no more (the window turned past skew during the knock)'],
    ['window-used', 'this address already opened with this window\'s sequence (once_per_window)'],
  ])('%s', (reason, words) => {
    const decision = { type: 'broken', time: at, src: '203.0.113.7', door: 'openSSH', reason } as const;
    expect(formatDecision(decision, 'UTC')).toBe(`2026-11-22 09:00:00.000  BROKEN     203.0.113.7        openSSH  ${reason}: ${words}`);
    expect(logEvents.decision(decision)).toEqual({ level: 'info', message: `Knock of 203.0.113.7 on openSSH broken: ${reason}, ${words}.`, kind: `broken (${reason})` });
  });
});
