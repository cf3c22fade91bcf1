import { parseISO } from 'date-fns/parseISO';
import { zonedWallTimeToEpoch } from '../text/time-zone.js';
import { escapeRegExp } from '../text/regex-text.js';
import { fractionEnd } from './syslog-envelope.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;

export interface SyslogTimeOptions {
  // IANA zone for stamps that carry none; undefined means the process's local zone.
  timeZone?: string | undefined;
  // A time the log is known not to be much later than (the file's mtime, or now when live).
  reference: number;
}

export interface SyslogTimeParser {
  (stamp: string): number | undefined;
  // The stamp that is line[0, end), read in place: no slice per line.
  atStart(line: string, end: number): number | undefined;
}

// Returns a stateful parser: syslog stamps have no year, so the year is inferred from the
// reference time for the first stamp and then carried forward, so a log that crosses
// Dec 31 into Jan 1 keeps its times increasing. The last second parsed is cached, since
// consecutive lines mostly share it; only the fraction is read per line.
export function createSyslogTimeParser(options: SyslogTimeOptions): SyslogTimeParser {
  let year: number | undefined;
  let lastMonth = -1;
  // The last traditional stamp read, and its time.
  let cachedKey = '';
  let cachedValue = 0;
  // The minute and zone of the last ISO stamp parseISO read (`2026-11-22T01:43:+00:00`), its
  // time at second 00, and the regex for stamps of that minute and zone once there is one.
  let lastMinute = '';
  let minuteValue = 0;
  let minute: RegExp | undefined;

  const parseTraditional = (line: string): number | undefined => {
    if (cachedKey !== '' && line.startsWith(cachedKey)) return cachedValue;
    const stamp = line.slice(0, 15);
    const month = MONTHS.indexOf(stamp.slice(0, 3));
    const day = Number(stamp.slice(4, 6).trim());
    const hour = Number(stamp.slice(7, 9));
    const minute = Number(stamp.slice(10, 12));
    const second = Number(stamp.slice(13, 15));
    if (month < 0 || !(day >= 1 && day <= 31) || !(hour <= 23) || !(minute <= 59) || !(second <= 60)) {
      return undefined;
    }
    if (stamp[9] !== ':' || stamp[12] !== ':') return undefined;
    if (year === undefined) {
      year = new Date(options.reference).getUTCFullYear();
      const guess = zonedWallTimeToEpoch([year, month, day, hour, minute, second], options.timeZone);
      if (guess > options.reference + DAY_MS) year -= 1;
    } else if (lastMonth - month > 6) {
      year += 1;
    }
    lastMonth = month;
    const value = zonedWallTimeToEpoch([year, month, day, hour, minute, second], options.timeZone);
    cachedKey = stamp;
    cachedValue = value;
    return value;
  };

  const parseIso = (line: string, end: number): number | undefined => {
    // 2026-11-22T01:43:16[.945087](Z|+00:00|+0000)
    if (line.charCodeAt(10) !== 84 || line.charCodeAt(4) !== 45) return undefined;
    let fraction = 0;
    let zoneStart = 19;
    if (line.charCodeAt(19) === 46) {
      for (zoneStart = 20; zoneStart < end; zoneStart++) {
        const c = line.charCodeAt(zoneStart);
        if (c < 48 || c > 57) break;
      }
      fraction = fractionMs(line, 20, zoneStart);
    }
    // Same minute and zone as the stamps before: one regex reads that, the seconds and the
    // fraction's digits. (It is made on the second stamp of a minute that needs parseISO, so a
    // log whose minutes alternate never compiles one per line.) A regex reads the 17 equal
    // characters faster than a comparison of substrings or of character codes.
    if (minute !== undefined) {
      minute.lastIndex = 0;
      if (minute.test(line) && minute.lastIndex === end) return minuteValue + secondAt(line, 17) * 1000 + fraction;
    }
    const base = line.slice(0, 19);
    const zone = line.slice(zoneStart, end);
    if (zone !== 'Z' && !/^[+-]\d\d:?\d\d$/.test(zone)) return undefined;
    const value = parseISO(base + zone).getTime();
    if (Number.isNaN(value)) return undefined;
    // Not hour 24, which has only 24:00:00.
    if (isSecond(line, 17) && !base.startsWith('24', 11)) {
      const key = base.slice(0, 17) + zone;
      if (key === lastMinute && minute === undefined) {
        minute = new RegExp(`${escapeRegExp(base.slice(0, 17))}[0-5]\\d(?:\\.\\d*)?${escapeRegExp(zone)}`, 'y');
      } else if (key !== lastMinute) {
        minute = undefined;
      }
      lastMinute = key;
      minuteValue = value - secondAt(line, 17) * 1000;
    } else {
      minute = undefined;
      lastMinute = '';
    }
    return value + fraction;
  };

  const atStart = (line: string, end: number): number | undefined => {
    if (line.charCodeAt(3) === 32) {
      // `Jan 7 09:58:47`, as some senders write a one-digit day: read as `Jan  7 09:58:47`.
      const oneDigitDay = line.charCodeAt(5) === 32;
      const secondsEnd = oneDigitDay ? 14 : 15;
      if (end === secondsEnd) return oneDigitDay ? parseTraditional(`${line.slice(0, 4)} ${line.slice(4, 14)}`) : parseTraditional(line);
      // `Nov 22 01:43:16.945087` (journalctl -o short-precise)
      if (line.charCodeAt(secondsEnd) === 46 && fractionEnd(line, secondsEnd + 1) === end) {
        const value = atStart(line, secondsEnd);
        return value === undefined ? undefined : value + fractionMs(line, secondsEnd + 1, end);
      }
    }
    return parseIso(line, end);
  };
  return Object.assign((stamp: string) => atStart(stamp, stamp.length), { atStart });
}

// Two digits 00-59 at text[at, at + 2).
function isSecond(text: string, at: number): boolean {
  const tens = text.charCodeAt(at);
  const units = text.charCodeAt(at + 1);
  return tens >= 48 && tens <= 53 && units >= 48 && units <= 57;
}


// The digits text[start, end) after a second's decimal point, in milliseconds (below one kept).
function fractionMs(text: string, start: number, end: number): number {
  let fraction = 0;
  for (let at = start, scale = 100; at < end; at++, scale /= 10) fraction += (text.charCodeAt(at) - 48) * scale;
  return fraction;
}

function secondAt(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}
