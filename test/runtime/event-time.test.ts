import { describe, expect, it } from 'vitest';
import { checkEventTime, FUTURE_TOLERANCE, PAST_TOLERANCE } from '../../src/runtime/event-time.js';

const HOST = Date.parse('2026-11-22T09:00:00Z');

describe('checkEventTime', () => {
  it.each([
    // Ahead of the host: clamped to it up to the tolerance, refused beyond.
    [HOST + 1, { status: 'ok', time: HOST }],
    [HOST + FUTURE_TOLERANCE, { status: 'ok', time: HOST }],
    [HOST + FUTURE_TOLERANCE + 1, { status: 'future' }],
    [1e300, { status: 'future' }],
    [Number.NaN, { status: 'future' }],
    // Behind the host: kept as it is up to the tolerance, refused beyond.
    [HOST, { status: 'ok', time: HOST }],
    [HOST - PAST_TOLERANCE, { status: 'ok', time: HOST - PAST_TOLERANCE }],
    [HOST - PAST_TOLERANCE - 1, { status: 'past' }],
    [-1e300, { status: 'past' }],
  ])('takes a line stamped %d as %j', (time, expected) => {
    expect(checkEventTime(time, HOST)).toEqual(expected);
  });
});
