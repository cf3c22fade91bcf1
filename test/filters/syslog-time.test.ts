import { describe, expect, it } from 'vitest';
import { seededRandom } from '../helpers/seeded-random.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';

const iso = (stamp: number | undefined) => (stamp === undefined ? undefined : new Date(stamp).toISOString());

describe('syslog time stamps', () => {
  it.each([
    // RFC 3339 as rsyslog writes it, with the fraction kept below the millisecond
    ['2026-11-22T01:43:16.945087+00:00', '2026-11-22T01:43:16.945Z'],
    ['2026-11-22T02:43:16.5+01:00', '2026-11-22T01:43:16.500Z'],
    ['2026-11-21T20:43:16-05:00', '2026-11-22T01:43:16.000Z'],
    // journald short-iso: +0000 without a colon, or Z
    ['2026-11-22T01:43:16+0000', '2026-11-22T01:43:16.000Z'],
    ['2026-11-22T01:43:16Z', '2026-11-22T01:43:16.000Z'],
    // traditional, with the day padded or, as some senders write it, not
    ['Jan  7 09:58:47', '2026-01-07T09:58:47.000Z'],
    ['Jan 7 09:58:47', '2026-01-07T09:58:47.000Z'],
    // traditional with a fraction: journalctl -o short-precise, syslog-ng's frac-digits()
    ['Nov 22 01:43:16.945087', '2026-11-22T01:43:16.945Z'],
    ['Jan  7 09:58:47.5', '2026-01-07T09:58:47.500Z'],
    ['Jan 7 09:58:47.123456789', '2026-01-07T09:58:47.123Z'],
    // not a time
    ['Jan  7 09:58:47.', undefined],
    ['Jan  7 09:58:47.12a', undefined],
    ['Jan  7 09:58:47.1234567890', undefined],
    ['Jan  7 09:58:47,5', undefined],
    ['Jan 32 09:58:47.5', undefined],
    ['2026-13-01T00:00:00+00:00', undefined],
    ['2026-11-22T01:43:16+25', undefined],
    ['Foo  7 09:58:47', undefined],
    ['Jan 32 09:58:47', undefined],
    ['Jan  7 25:58:47', undefined],
  ])('%s', (stamp, expected) => {
    const parse = createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2026-12-31T00:00:00Z') });
    expect(iso(parse(stamp))).toBe(expected);
  });

  it('keeps the fraction below a millisecond', () => {
    const parse = createSyslogTimeParser({ timeZone: 'UTC', reference: 0 });
    const a = parse('2026-11-22T01:43:16.945087+00:00') ?? 0;
    const b = parse('2026-11-22T01:43:16.945587+00:00') ?? 0;
    expect(b - a).toBeCloseTo(0.5, 6);
  });

  it('reads each fraction of a traditional second, the same second read before or not', () => {
    const parse = createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2026-12-31T00:00:00Z') });
    const stamps = ['Nov 22 01:43:16', 'Nov 22 01:43:16.25', 'Nov 22 01:43:16.250001', 'Nov 22 01:43:16.9', 'Nov 22 01:43:17.000001'];
    const base = Date.parse('2026-11-22T01:43:16Z');
    const read = stamps.map((stamp) => (parse(stamp) ?? NaN) - base);
    expect(read[0]).toBe(0);
    expect(read[1]).toBe(250);
    expect(read[2]).toBeCloseTo(250.001, 3);
    expect(read[3]).toBe(900);
    expect(read[4]).toBeCloseTo(1000.001, 3);
  });

  it('takes the year of the reference time for stamps without one', () => {
    const parse = createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2026-11-22T12:00:00Z') });
    expect(iso(parse('Nov 22 09:58:47'))).toBe('2026-11-22T09:58:47.000Z');
  });

  it('puts a stamp later than the reference in the year before', () => {
    const parse = createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2027-01-02T00:00:00Z') });
    expect(iso(parse('Dec 30 23:00:00'))).toBe('2026-12-30T23:00:00.000Z');
  });

  it('keeps time increasing across Dec 31 into Jan 1', () => {
    const parse = createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2027-01-01T06:00:00Z') });
    const stamps = ['Dec 31 23:59:58', 'Dec 31 23:59:59', 'Jan  1 00:00:00', 'Jan  1 00:00:01'].map((stamp) => parse(stamp) ?? NaN);
    expect(stamps.map(iso)).toEqual(['2026-12-31T23:59:58.000Z', '2026-12-31T23:59:59.000Z', '2027-01-01T00:00:00.000Z', '2027-01-01T00:00:01.000Z']);
  });

  it('reads zone-less stamps in the configured zone, summer and winter time alike', () => {
    const parse = createSyslogTimeParser({ timeZone: 'Europe/Berlin', reference: Date.parse('2026-12-31T00:00:00Z') });
    expect(iso(parse('Jul  1 12:00:00'))).toBe('2026-07-01T10:00:00.000Z');
    expect(iso(parse('Dec  1 12:00:00'))).toBe('2026-12-01T11:00:00.000Z');
  });

  it('reads zone-less stamps in another configured zone', () => {
    const parse = createSyslogTimeParser({ timeZone: 'America/New_York', reference: Date.parse('2026-12-31T00:00:00Z') });
    expect(iso(parse('Jan  7 09:58:47'))).toBe('2026-01-07T14:58:47.000Z');
  });

  it('honours the zone written in an ISO stamp over the configured one', () => {
    const parse = createSyslogTimeParser({ timeZone: 'Asia/Tokyo', reference: 0 });
    expect(iso(parse('2026-11-22T01:43:16+00:00'))).toBe('2026-11-22T01:43:16.000Z');
  });
});

describe('ISO stamps one after another', () => {
  // A stamp in the minute and zone of the one before is read from that one's time; what
  // parseISO refuses stays refused.
  it('reads each stamp of a minute as parseISO does', () => {
    const parse = createSyslogTimeParser({ timeZone: 'UTC', reference: 0 });
    const stamps = [
      '2026-11-22T01:43:16Z', '2026-11-22T01:43:59.5Z', '2026-11-22T01:43:00Z', '2026-11-22T01:43:60Z', '2026-11-22T01:43:5xZ',
      '2026-11-22T01:43:17+01:00', '2026-11-22T24:00:00Z', '2026-11-22T24:00:05Z', '2026-11-22T01:44:01Z',
    ];
    expect(stamps.map((stamp) => iso(parse(stamp)))).toEqual([
      '2026-11-22T01:43:16.000Z', '2026-11-22T01:43:59.500Z', '2026-11-22T01:43:00.000Z', undefined, undefined,
      '2026-11-22T00:43:17.000Z', '2026-11-23T00:00:00.000Z', undefined, '2026-11-22T01:44:01.000Z',
    ]);
  });
});

describe('a long run of ISO stamps', () => {
  // Whatever the parser remembers of the stamps before (the minute and zone, the regex it
  // makes for them), each stamp reads as a parser that has seen no other reads it.
  it('reads each stamp as a fresh parser does', () => {
    const random = seededRandom(20261122);
    const pick = <T>(items: readonly T[]): T => items[random(items.length)] as T;
    // Mostly valid parts, now and then one parseISO refuses (or hour 24, never cached).
    const part = (valid: readonly string[], invalid: readonly string[]) => (random(12) === 0 ? pick(invalid) : pick(valid));
    const minutes = ['2026-11-22T01:43:', '2026-11-22T01:44:', '2026-12-31T23:59:'];
    const zones = ['Z', '+00:00', '+01:00', '-0530', '+0100'];
    let minute = pick(minutes);
    let zone = pick(zones);
    const stamps: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // Mostly the minute and zone of the stamp before, as in a log.
      if (random(10) === 0) minute = part(minutes, ['2026-11-22T24:00:', '2026-11-22T01:4x:']);
      if (random(20) === 0) zone = part(zones, ['z', '+1:00', '', 'Z0', '+00:000', '-05300']);
      const second = part([String(random(60)).padStart(2, '0')], ['60', '5x', '99', '7']);
      stamps.push(`${minute}${second}${part(['', '.5', '.123456', '.000001', '.999999999', '.'], ['.12a', '..1'])}${zone}`);
    }
    // A stamp that starts as one of the minute and zone read before and goes on.
    stamps.push('2026-11-22T01:43:16Z', '2026-11-22T01:43:17Z', '2026-11-22T01:43:18Z0', '2026-11-22T01:43:18.5Z0', '2026-11-22T01:43:19Z');
    const fresh = (stamp: string) => createSyslogTimeParser({ timeZone: 'UTC', reference: 0 })(stamp);
    const parse = createSyslogTimeParser({ timeZone: 'UTC', reference: 0 });
    const read = stamps.map((stamp) => parse(stamp));
    expect(read).toEqual(stamps.map(fresh));
    // Most are times: the run reads the minute's regex path, not only refusals.
    expect(read.filter((time) => time !== undefined).length).toBeGreaterThan(1500);
  });
});
