import { zoneOffset } from '../text/time-zone.js';

// The text of the last second formatted, up to its milliseconds: a replay formats its
// decisions in time order, often several in one second. (A zone's offset changes only at a
// whole second.)
let last = { second: NaN, zone: undefined as string | undefined, head: '' };

// `2026-11-22 01:43:16.945` on the wall clock of `zone` (local when undefined).
export function formatTime(epoch: number, zone: string | undefined): string {
  if (!Number.isFinite(epoch)) return 'never';
  const ms = Math.floor(epoch);
  if (ms < 0) return formatWall(epoch, zone);
  const second = Math.floor(ms / 1000);
  if (second !== last.second || zone !== last.zone) last = { second, zone, head: formatWall(second * 1000, zone).slice(0, -3) };
  return last.head + String(ms - second * 1000).padStart(3, '0');
}

function formatWall(epoch: number, zone: string | undefined): string {
  if (zone === undefined) return formatLocal(new Date(epoch));
  const wall = new Date(Math.floor(epoch) + zoneOffset(zone, epoch));
  return wall.toISOString().replace('T', ' ').replace('Z', '');
}

export function formatSeconds(ms: number): string {
  if (!Number.isFinite(ms)) return 'until closed';
  const seconds = ms / 1000;
  if (seconds >= 86400 && seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${Number(seconds.toFixed(3))}s`;
}

// date-fns's `yyyy-MM-dd HH:mm:ss.SSS` written out: its format() loads some forty modules
// at start-up for this one pattern.
function formatLocal(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('Invalid time value');
  const year = date.getFullYear();
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  return `${pad(year > 0 ? year : 1 - year, 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
