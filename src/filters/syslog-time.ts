import { parseISO } from 'date-fns/parseISO';
import { zonedWallTimeToEpoch } from '../text/time-zone.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;

export interface SyslogTimeOptions {
  // IANA zone for stamps that carry none; undefined means the process's local zone.
  timeZone?: string | undefined;
  // A time the log is known not to be much later than (the file's mtime, or now when live).
  reference: number;
}

export type SyslogTimeParser = (stamp: string) => number | undefined;

// Returns a stateful parser: syslog stamps have no year, so the year is inferred from the
// reference time for the first stamp and then carried forward, so a log that crosses
// Dec 31 into Jan 1 keeps its times increasing. The last second parsed is cached, since
// consecutive lines mostly share it; only the fraction is read per line.
export function createSyslogTimeParser(options: SyslogTimeOptions): SyslogTimeParser {
  let year: number | undefined;
  let lastMonth = -1;
  let cachedKey = '';
  let cachedZone = '';
  let cachedZoneLength = -1;
  let cachedValue = 0;

  const parseTraditional = (stamp: string): number | undefined => {
    if (stamp === cachedKey && cachedZoneLength === -1) return cachedValue;
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
    cachedZoneLength = -1;
    cachedValue = value;
    return value;
  };

  const parseIso = (stamp: string): number | undefined => {
    // 2026-11-22T01:43:16[.945087](Z|+00:00|+0000)
    if (stamp.charCodeAt(10) !== 84 || stamp.charCodeAt(4) !== 45) return undefined;
    let fraction = 0;
    let zoneStart = 19;
    if (stamp.charCodeAt(19) === 46) {
      let scale = 100;
      for (zoneStart = 20; zoneStart < stamp.length; zoneStart++) {
        const c = stamp.charCodeAt(zoneStart);
        if (c < 48 || c > 57) break;
        fraction += (c - 48) * scale;
        scale /= 10;
      }
    }
    // Same second and zone as the last stamp: only the fraction differs.
    if (stamp.length - zoneStart === cachedZoneLength && stamp.startsWith(cachedKey) && stamp.endsWith(cachedZone)) {
      return cachedValue + fraction;
    }
    const base = stamp.slice(0, 19);
    const zone = stamp.slice(zoneStart);
    if (zone !== 'Z' && !/^[+-]\d\d:?\d\d$/.test(zone)) return undefined;
    const value = parseISO(base + zone).getTime();
    if (Number.isNaN(value)) return undefined;
    cachedKey = base;
    cachedZone = zone;
    cachedZoneLength = zone.length;
    cachedValue = value;
    return value + fraction;
  };

  return (stamp) => (stamp.length === 15 && stamp.charCodeAt(3) === 32 ? parseTraditional(stamp) : parseIso(stamp));
}
