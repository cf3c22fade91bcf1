import { describe, expect, it } from 'vitest';
import { checkEventTime, FUTURE_TOLERANCE, PAST_TOLERANCE } from '../../src/runtime/event-time.js';

const HOST = Date.parse('2026-11-22T09:00:00Z');

describe('checkEventTime', () => {
  it.each([
    // Ahead of the host: acted on up to the tolerance, refused beyond.
    [HOST + 1, 'ok'],
    [HOST + FUTURE_TOLERANCE, 'ok'],
    [HOST + FUTURE_TOLERANCE + 1, 'future'],
    [1e300, 'future'],
    [Number.NaN, 'future'],
    // Behind the host: acted on up to the tolerance, refused beyond.
    [HOST, 'ok'],
    [HOST - PAST_TOLERANCE, 'ok'],
    [HOST - PAST_TOLERANCE - 1, 'past'],
    [-1e300, 'past'],
  ])('takes a line stamped %d as %s', (time, expected) => {
    expect(checkEventTime(time, HOST)).toEqual(expected);
  });
});
