import type { FleetStatus } from '../fleet/fleet-status.js';
import type { SourceStatus, StatusReport } from '../runtime/control-types.js';
import { formatTime } from './format-time.js';

// The daemon's status as text. Every age and countdown is measured from the report's own
// `now`, so the output says what the daemon saw when it answered. Over JSON an endless
// time (a grant until closed) arrives as null.
export function formatStatus(report: StatusReport, verbose: boolean): string[] {
  const { now, pipeline } = report;
  const out = [`knockwatch running (pid ${report.pid}) for ${formatDuration(now - report.startedAt)}, config ${report.config}`];
  const verify = report.firewall.lastVerify;
  const health = verify === undefined ? 'not verified yet' : `last verify ${verify.ok ? 'ok' : 'FAILED'} ${formatDuration(now - verify.at)} ago`;
  out.push(`firewall ${report.firewall.backend}: ${health}, ${plural(report.firewall.pending, 'change')} pending`);
  if (report.fleet !== undefined) out.push(formatFleet(report.fleet));
  out.push(`sources: ${report.sources.length}`);
  for (const source of report.sources) out.push(`  ${formatSource(source, now)}`);
  out.push(`grants: ${pipeline.grants.length}`);
  out.push(...table(pipeline.grants.map((grant) => [
    grant.src, grant.door, grant.ports.map((port) => `${port.port}/${port.proto}`).join(',') || '-',
    (Number.isFinite(grant.expires) ? `expires in ${formatDuration(grant.expires - now)}` : 'until closed') + remoteTag(grant.origin),
  ])));
  out.push(`bans: ${pipeline.bans.length}`);
  out.push(...table(pipeline.bans.map((ban) => [
    ban.src, Number.isFinite(ban.until) ? `until ${formatTime(ban.until, undefined)} (in ${formatDuration(ban.until - now)})` : 'until lifted', plural(ban.offenses, 'offense') + remoteTag(ban.origin),
  ])));
  out.push(`attempts in progress: ${plural(pipeline.tracked, 'source')} tracked`);
  out.push(...table(pipeline.attempts.map((entry) => [
    entry.door, String(entry.sources.length), ...(verbose && entry.sources.length > 0 ? [entry.sources.join(' ')] : []),
  ])));
  const stats = pipeline.stats;
  out.push(`since start: lines ${stats.lines}, knocks ${stats.knocks}, opens ${stats.opens}, closes ${stats.closes}, bans ${stats.bans}, invalid ${stats.invalid}, stale ${stats.stale}`);
  // An older daemon's report has no count of dropped attempts.
  out.push(`evicted: ${plural(stats.evicted, 'source')} (${plural(stats.evictedAttempts ?? 0, 'attempt')} in progress dropped) to stay under max_tracked and max_first_steps`);
  return out;
}

function formatSource(source: SourceStatus, now: number): string {
  const lag = source.lag === undefined ? 'lag unknown' : `lag ${source.lag}${source.kind === 'file' ? ' bytes' : ''}`;
  const last = source.lastLineAt === undefined ? 'no line yet' : `last line ${formatDuration(now - source.lastLineAt)} ago`;
  return `${source.name} (${source.kind}): ${formatPosition(source.position)}, ${lag}, ${last}`;
}

// Positions are kind-specific plain data (a file's inode and offset, a journal cursor).
function formatPosition(position: unknown): string {
  if (position === undefined || position === null) return 'no position yet';
  if (typeof position !== 'object') return `at ${String(position)}`;
  const parts = Object.entries(position).map(([key, value]) => {
    const text = typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
    return `${key} ${text.length > 16 ? `${text.slice(0, 16)}…` : text}`;
  });
  return `at ${parts.join(', ')}`;
}

// Rows as aligned columns, indented under their heading; the last column is not padded.
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => { widths[index] = Math.max(widths[index] ?? 0, cell.length); });
  return rows.map((row) => `  ${row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join('  ')}`);
}

function formatFleet(fleet: FleetStatus): string {
  const state = fleet.connected ? 'connected to' : 'NOT connected to';
  return `fleet: group ${fleet.group} as ${fleet.name}, ${state} ${fleet.redis}; from other hosts: ${fleet.applied} applied, ${fleet.ignored} ignored, ${fleet.refused} refused`;
}

// A grant or ban another fleet host decided (src/fleet/).
function remoteTag(origin: string | undefined): string {
  return origin === undefined ? '' : ` (remote, from ${origin})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

// `45 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
