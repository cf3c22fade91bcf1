import { format } from 'date-fns/format';
import { zoneOffset } from '../text/time-zone.js';

// `2026-11-22 01:43:16.945` on the wall clock of `zone` (local when undefined).
export function formatTime(epoch: number, zone: string | undefined): string {
  if (!Number.isFinite(epoch)) return 'never';
  if (zone === undefined) return format(new Date(epoch), 'yyyy-MM-dd HH:mm:ss.SSS');
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
