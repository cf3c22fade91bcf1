import { describe, expect, it, vi } from 'vitest';
import { zonedWallTimeToEpoch, zoneOffset } from '../../src/text/time-zone.js';

const HOUR = 3_600_000;
// Europe/Berlin went from +01:00 to +02:00 at 2026-03-29 01:00 UTC.
const SWITCH = Date.UTC(2026, 2, 29, 1, 0, 0);

describe('zoneOffset', () => {
  it('changes at the minute of a DST switch, asked in any order and for interleaved zones', () => {
    expect([
      zoneOffset('Europe/Berlin', SWITCH - 1),
      zoneOffset('Europe/Berlin', SWITCH - 60_000),
      zoneOffset('America/New_York', SWITCH),
      zoneOffset('Europe/Berlin', SWITCH),
      zoneOffset('Europe/Berlin', SWITCH + 59_999),
      zoneOffset('Europe/Berlin', SWITCH - 1),
      zoneOffset('Asia/Kathmandu', SWITCH),
      zoneOffset('UTC', SWITCH),
    ]).toEqual([HOUR, HOUR, -4 * HOUR, 2 * HOUR, 2 * HOUR, HOUR, 5.75 * HOUR, 0]);
  });

  it('changes at a switch in the middle of a UTC hour (Lord Howe Island: +10:30 to +11:00)', () => {
    const halfPast = Date.UTC(2026, 9, 3, 15, 30, 0);
    expect([zoneOffset('Australia/Lord_Howe', halfPast - 1), zoneOffset('Australia/Lord_Howe', halfPast)]).toEqual([10.5 * HOUR, 11 * HOUR]);
  });

  it('works the offset out once for a run of times within one minute', () => {
    const parts = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    try {
      const start = Date.UTC(2026, 5, 1, 12, 0, 0);
      for (let i = 0; i < 600; i++) zoneOffset('Europe/Paris', start + i * 100);
      expect(parts).toHaveBeenCalledTimes(1);
    } finally {
      parts.mockRestore();
    }
  });

  it('turns a wall time on either side of the switch into the right instant', () => {
    expect(zonedWallTimeToEpoch([2026, 2, 29, 1, 59, 59], 'Europe/Berlin')).toBe(SWITCH - 1000);
    expect(zonedWallTimeToEpoch([2026, 2, 29, 3, 0, 0], 'Europe/Berlin')).toBe(SWITCH);
  });
});
