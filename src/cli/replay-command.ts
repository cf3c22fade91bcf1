import { loadConfigFile } from '../config/load-config.js';
import { formatStep } from '../doors/format-step.js';
import { replayFiles, type ReplayResult } from '../runtime/replay.js';
import { describeHeld, LINES_PER_KIND, ReportLimit, reportKind } from '../runtime/report-limit.js';
import { decisionToJson, formatDecision, isTimelineDecision } from './format-decision.js';
import { formatTime } from './format-time.js';
import { demoConfigPath } from '../runtime/package-paths.js';
import { checkInputFiles, loadFilter, resolveTimeZone } from './inputs.js';
import type { CliValues } from './values.js';
import { bufferedOutput, line, type Deps } from './output.js';
import { createProgress, type Progress } from './progress.js';
import type { Config } from '../config/types.js';

export async function runReplay(files: readonly string[], values: CliValues, deps: Deps): Promise<number> {
  const authFiles = values['auth-log'] ?? [];
  const totalBytes = checkInputFiles(files) + (authFiles.length > 0 ? checkInputFiles(authFiles) : 0);
  // Without --config the decisions are the demo config's: say so, or they read as the admin's.
  if (values.config === undefined) line(deps.stderr, `knockwatch: no --config given; using the demo config ${demoConfigPath()}.`);
  const config = loadConfigFile(values.config ?? demoConfigPath());
  const zone = resolveTimeZone(values, config);
  const progress = createProgress(deps.stderr, files.includes('-') ? undefined : totalBytes, deps.clock);
  const stdout = bufferedOutput(deps.stdout);
  try {
    return await replay({ ...deps, stdout }, files, values, config, zone, progress);
  } finally {
    stdout.flush();
  }
}

async function replay(deps: Deps, files: readonly string[], values: CliValues, config: Config, zone: string | undefined, progress: Progress): Promise<number> {
  const authFiles = values['auth-log'] ?? [];
  const verbose = values.verbose === true;
  const json = values.json === true;
  const doorWidth = Math.max(...config.doors.map((door) => door.name.length));
  // A flood is summarised per minute of the log, as the daemon logs it; -v shows every decision.
  const limit = new ReportLimit((minute, held) => deps.stdout.write(json
    ? `${JSON.stringify({ type: 'held', minute: new Date(minute).toISOString(), counts: Object.fromEntries(held) })}\n`
    : `${formatTime(minute, zone)}  ${'HELD'.padEnd(10)} past ${LINES_PER_KIND} a minute of a kind: ${describeHeld(held)}\n`));
  const result = await replayFiles({
    files,
    config,
    filter: loadFilter('netfilter'),
    authFiles,
    authFilter: authFiles.length > 0 ? loadFilter('sshd') : undefined,
    timeZone: zone,
    clock: deps.clock,
    sink: (decision) => {
      if (!isTimelineDecision(decision, verbose)) return;
      const kind = reportKind(decision);
      if (!verbose && kind !== undefined && !limit.admit(kind, decision.time)) return;
      deps.stdout.write(`${json ? decisionToJson(decision) : formatDecision(decision, zone, doorWidth)}\n`);
    },
    onProgress: progress.update,
  });
  limit.flush();
  progress.done();
  if (json) line(deps.stdout, JSON.stringify(summaryJson(result)));
  else printSummary(result, zone, deps);
  return 0;
}

function summaryJson(result: ReplayResult): Record<string, unknown> {
  const { stats } = result;
  return {
    type: 'summary',
    lines: stats.lines, matched: stats.matched, missed: stats.missed, ignored: stats.ignored,
    sshEvents: stats.sshEvents, invalid: stats.invalid, oversize: stats.oversize, otherPort: stats.otherPort, knocks: stats.knocks, otherPrefix: stats.otherPrefix,
    doors: Object.fromEntries(stats.doors),
    granted: [...stats.granted],
    stillOpen: result.stillOpen.map((grant) => ({ src: grant.src, door: grant.door })),
  };
}

function printSummary(result: ReplayResult, zone: string | undefined, deps: Deps): void {
  const { stats } = result;
  const out = deps.stdout;
  line(out);
  line(out, 'Summary');
  line(out, `  lines read     ${stats.lines}  (matched ${stats.matched}, missed ${stats.missed}, ignored ${stats.ignored}, invalid ${stats.invalid}, oversize ${stats.oversize})`);
  if (stats.otherPort > 0) line(out, `  other ports    ${stats.otherPort} LOG lines for ports no door or trap uses (not parsed further)`);
  if (stats.otherProtocol > 0) line(out, `  other protocol ${stats.otherProtocol} LOG lines of packets that cannot be knocks (other protocols, fragments)`);
  line(out, `  knocks         ${stats.knocks}${stats.otherPrefix > 0 ? `  (${stats.otherPrefix} more with another log prefix, not counted)` : ''}`);
  const nameWidth = Math.max(8, ...[...stats.doors.keys()].map((name) => name.length));
  line(out, `  ${'door'.padEnd(nameWidth)}  started  completed  broken`);
  for (const [name, counters] of stats.doors) {
    line(out, `  ${name.padEnd(nameWidth)}  ${String(counters.started).padStart(7)}  ${String(counters.completed).padStart(9)}  ${String(counters.broken).padStart(6)}`);
  }
  if (stats.sshEvents > 0) line(out, `  sshd events    ${stats.sshEvents}`);
  line(out, `  addresses granted: ${stats.granted.size}${stats.granted.size > 0 ? ` (${[...stats.granted].join(', ')})` : ''}`);
  for (const grant of result.stillOpen) {
    line(out, `  still open at the end of the log: ${grant.src} ${grant.door} ${grant.ports.map(formatStep).join(',')} until ${formatTime(grant.expires, zone)}`);
  }
  for (const [reason, count] of result.stats.invalidReasons) line(out, `  invalid lines: ${count} × ${reason}`);
}
