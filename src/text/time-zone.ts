const formatters = new Map<string, Intl.DateTimeFormat>();

export function isValidTimeZone(zone: string): boolean {
  // UTC needs no zone data: loading Intl's costs start-up time.
  if (zone === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// [year, month (0-11), day, hour, minute, second] on a wall clock in `zone` (local when
// undefined) to epoch milliseconds.
export function zonedWallTimeToEpoch(
  wall: [number, number, number, number, number, number],
  zone: string | undefined,
): number {
  const [year, month, day, hour, minute, second] = wall;
  if (zone === undefined) return new Date(year, month, day, hour, minute, second).getTime();
  const asUtc = Date.UTC(year, month, day, hour, minute, second);
  const first = asUtc - zoneOffset(zone, asUtc);
  const second_ = asUtc - zoneOffset(zone, first);
  return second_;
}

// Per zone, the offset last asked for and its minute: offsets change only at whole minutes
// (a DST or zone change), and log times come in runs within the same minute.
const lastOffset = new Map<string, { minute: number; offset: number }>();

// Offset of `zone` from UTC at `epoch`, in milliseconds.
export function zoneOffset(zone: string, epoch: number): number {
  if (zone === 'UTC') return 0;
  const minute = Math.floor(epoch / 60_000);
  const last = lastOffset.get(zone);
  if (last !== undefined && last.minute === minute) return last.offset;
  const offset = computeZoneOffset(zone, epoch);
  lastOffset.set(zone, { minute, offset });
  return offset;
}

function computeZoneOffset(zone: string, epoch: number): number {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(new Date(epoch))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wallAsUtc = Date.UTC(
    parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0,
  );
  return wallAsUtc - Math.floor(epoch / 1000) * 1000;
}
