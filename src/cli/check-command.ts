import type { Config, Door, FirewallKind, LogLimit } from '../config/types.js';
import { fitLogLimit } from '../config/log-limit.js';
import { describeKnock, formatStep } from '../doors/format-step.js';
import { createDoorKind } from '../doors/create-door-kind.js';
import { RotatingKind, windowStartOf } from '../doors/rotating.js';
import { loadConfigFile } from '../config/load-config.js';
import { formatWarning } from '../config/problems.js';
import { adjacentTraps, type AdjacentTraps } from '../config/trap-adjacent.js';
import { LOG_LIMIT_SOURCES, logLimitIdle } from '../firewall/log-limit.js';
import { FIREWALL_REGISTRY } from '../firewall/registry.js';
import { createBackend } from '../firewall/select-backend.js';
import { preflight, StartError } from '../runtime/preflight.js';
import { fileSourceWarning, type SourceSelection } from '../runtime/source-choice.js';
import { formatSeconds } from './format-time.js';
import { DEFAULT_CONFIG } from './inputs.js';
import { UsageError } from './usage-error.js';
import type { CliValues } from './values.js';
import { line, type Deps } from './output.js';

// Validates the config and prints the doors and exactly the firewall plan start would
// install, without touching the firewall.
export async function runCheck(rest: readonly string[], values: CliValues, deps: Deps): Promise<number> {
  if (rest.length > 0) throw new UsageError(`check takes no file argument (use --config ${rest[0]})`);
  const override = values.firewall;
  const config = loadConfigFile(values.config ?? DEFAULT_CONFIG, override);
  // The same checks `run` makes before its first firewall change.
  const { problems, backend, kind, sources } = await preflight(config, { kernLog: values.log, authLog: values['auth-log']?.[0] }, override,
    (chosen) => createBackend(chosen, config, deps.runner));
  const now = deps.clock.now();
  const secrets = values['show-secrets'] === true ? now : undefined;
  for (const text of describeConfig(config, kind ?? config.options.firewall ?? 'nftables', sources, override, secrets)) line(deps.stdout, text);
  const limited = backend?.logLimitRules?.(secrets) ?? [];
  const rotating = describeRotatingPorts(config.doors, secrets !== undefined);
  if (limited.length > 0 || (backend?.logLimitRules !== undefined && config.options.logLimit !== undefined && rotating.length > 0)) {
    line(deps.stdout);
    line(deps.stdout, `Log limit rules (${backend?.name}; per IPv4 address and per IPv6 /64):`);
    for (const { family, rule } of limited) line(deps.stdout, `  IPv${family}  ${rule}`);
    for (const text of rotating) line(deps.stdout, `  ${text}`);
  }
  if (backend !== undefined) {
    line(deps.stdout);
    line(deps.stdout, `Firewall plan (${backend.name}; not applied):`);
    for (const text of rotating) line(deps.stdout, `# ${text}`);
    deps.stdout.write(backend.plan([], now, [], secrets === undefined));
  }
  if (problems.length === 0) return 0;
  line(deps.stderr, `knockwatch: ${config.file} is valid, but knockwatch cannot run with it:`);
  for (const problem of problems) line(deps.stderr, `  ${problem.message}`);
  return new StartError(problems).exitCode;
}

// `kind` is the firewall chooseFirewall picked, `sources` what the daemon would read (with
// --log and --auth-log), `override` the --firewall flag; `secretsAt`, with --show-secrets,
// the time whose rotating sequences are printed.
export function describeConfig(config: Config, kind: FirewallKind, sources: SourceSelection, override?: FirewallKind, secretsAt?: number): string[] {
  const { options } = config;
  const sshd = sources.auth.spec !== undefined;
  const out = [`${config.file}: ok, ${config.doors.length} door${config.doors.length === 1 ? '' : 's'}.`, '', '[options]'];
  const show = (key: string, value: string): void => {
    out.push(`  ${key.padEnd(18)} ${value}`);
  };
  show('firewall', describeFirewall(config, kind, override));
  show('whitelist', options.whitelist.map((network) => network.text).join(', ') || '(none)');
  show('kernel_source', sources.kernel.summary);
  show('auth_source', sources.auth.summary);
  show('state_file', options.stateFile);
  show('log_prefix', options.logPrefix ?? '(any)');
  show('timezone', options.timeZone ?? '(local)');
  show('max_tracked', options.maxFirstSteps === 0
    ? `${options.maxTracked} sources, trapped or with steps done (fewest steps done go first when full)`
    : `${options.maxTracked} sources past their first step (fewest steps done go first when full), and as many trap periods of new sources (oldest go first)`);
  show('max_first_steps', options.maxFirstSteps === 0 ? '0 (off: first steps count under max_tracked)' : `${options.maxFirstSteps} sources with only a first step (oldest go first when full)`);
  show('retransmit_window', formatSeconds(options.retransmitWindow));
  show('maxretry', sshd ? `${options.maxRetry} sshd failures within ${formatSeconds(options.findTime)} ban for ${formatSeconds(options.banTime)} (doubling per repeat, at most ${formatSeconds(options.banTimeMax)})` : 'off (no sshd source)');
  show('logout_grace', sshd ? formatSeconds(options.logoutGrace) : 'off (no sshd source)');
  show('log_limit', describeLogLimit(options.logLimit));
  if (options.trapPorts.length > 0) show('trap_ports', `${options.trapPorts.map(formatStep).join(', ')} (refused for ${formatSeconds(options.trapFor)})`);
  const adjacent = new Map(adjacentTraps(config.doors).map((entry) => [entry.door, entry]));
  for (const door of config.doors) {
    out.push('', ...describeDoor(door, kind, sshd, options.logLimit), ...describeAdjacent(adjacent.get(door.name)), ...describeSequences(door, secretsAt));
  }
  if (config.unused.length > 0) {
    out.push('', 'Accepted but unused (knockd keys knockwatch does not need):');
    for (const key of config.unused) out.push(`  ${key}`);
  }
  const fileWarning = fileSourceWarning(sources);
  const warnings = [...config.warnings.map(formatWarning), ...(fileWarning === undefined ? [] : [fileWarning]), ...describeCheckWarnings(config, kind, sshd)];
  if (warnings.length > 0) out.push('', 'Warnings:', ...warnings.map((text) => `  ${text}`));
  return out;
}

function describeFirewall(config: Config, kind: FirewallKind, override: FirewallKind | undefined): string {
  if (override !== undefined) return `${kind} (from --firewall)`;
  if (config.options.firewall !== undefined) return kind;
  return `${kind} (auto: ${FIREWALL_REGISTRY[kind].probe(config) ?? 'neither nft nor iptables found'})`;
}

// Warnings that depend on what only the command line knows: the sshd source and dry-run.
function describeCheckWarnings(config: Config, kind: FirewallKind, sshd: boolean): string[] {
  const warnings: string[] = [];
  if (kind === 'dry-run') warnings.push(`${config.file} [options] firewall: dry-run applies nothing to the firewall; grants and bans are only recorded.`);
  const limit = config.options.logLimit;
  // hashlimit drops a packet it has no room to count: a table kept full by a spoofed flood
  // silently eats a real user's knock from an address it has not seen. nftables logs it.
  if (kind === 'iptables' && limit !== undefined) {
    warnings.push(`${config.file} [options] log_limit: with iptables, while ${LOG_LIMIT_SOURCES} sources are in a family's limit table (a spoofed flood of about ${Math.ceil(LOG_LIMIT_SOURCES / logLimitIdle(limit)).toLocaleString('en')} new sources a second), the kernel drops a knock from any other address without logging it, so no door opens for it until the flood eases; nftables logs such a knock past the limit instead (firewall = nftables).`);
  }
  if (!sshd) {
    for (const door of config.doors.filter((candidate) => candidate.closeOnLogout)) {
      warnings.push(`${config.file} [${door.name}] close_on_logout: no effect without an auth log (auth_source, auth_log or --auth-log).`);
    }
  }
  return warnings;
}

function describeLogLimit(limit: LogLimit | undefined): string {
  if (limit === undefined) return 'off (every packet to a knock or trap port is logged)';
  return `${limit.rate}/second, burst ${limit.burst}, per IPv4 address and per IPv6 /64 on the knock LOG rules; `
    + `a source idle ${logLimitIdle(limit)}s is forgotten, at most ${LOG_LIMIT_SOURCES} kept per family`;
}

// A door that does not fit is refused when the config loads: here it always fits.
function describeFit(door: Door, limit: LogLimit): string {
  const fit = fitLogLimit(door, limit);
  return `fits: ${fit.steps} step${fit.steps === 1 ? '' : 's'} back-to-back within burst ${limit.burst}; `
    + `at ${limit.rate}/second the last comes ${formatSeconds(Math.ceil(fit.paced * 1000))} after the first (seq_timeout ${formatSeconds(door.seqTimeout)})`;
}

function describeDoor(door: Door, kind: FirewallKind, sshd: boolean, limit: LogLimit | undefined): string[] {
  const out = [`[${door.name}]`];
  const show = (key: string, value: string): void => {
    out.push(`  ${key.padEnd(18)} ${value}`);
  };
  show(...describeKnock(door));
  show('seq_timeout', formatSeconds(door.seqTimeout));
  if (door.stepTimeout !== undefined) show('step_timeout', `${formatSeconds(door.stepTimeout)} (each step after the first within this of the one before)`);
  show('tcpflags', door.tcpflags?.text ?? '(any)');
  if (limit !== undefined) show('log_limit', describeFit(door, limit));
  if (door.destination) show('destination', door.destination);
  if (door.strict) show('strict', 'yes (any other packet from the source breaks the attempt)');
  const lifetime = door.openFor === 0 ? 'until closed' : `for ${formatSeconds(door.openFor)}`;
  if (door.closes) show('closes', door.closes);
  else if (kind === 'command') show('opens', `what its commands open, ${lifetime}`);
  else show('opens', `${door.open.map(formatStep).join(', ')} ${lifetime}`);
  if (door.closeOnLogout) show('close_on_logout', sshd ? 'yes' : 'off (no sshd source)');
  if (door.closeOnWrongKnock) show('close_on_wrong_knock', 'yes (a granted address knocking a port of this door out of sequence closes its grant)');
  if (door.maxConnections !== undefined) show('max_connections', `${door.maxConnections} concurrent new connection${door.maxConnections === 1 ? '' : 's'} per granted address`);
  if (door.commandTranslation) show('translated', door.commandTranslation);
  const run = door.commandTranslation ? ' (translated, not run)' : '';
  if (door.startCommand) show('start_command', door.startCommand + run);
  if (door.stopCommand) show('stop_command', door.stopCommand + run);
  if (door.startCommand6) show('start_command_6', door.startCommand6 + run);
  if (door.stopCommand6) show('stop_command_6', door.stopCommand6 + run);
  return out;
}

// trap_adjacent: the trap ports the door adds (in trap_ports above too) and the neighbours left out.
function describeAdjacent(entry: AdjacentTraps | undefined): string[] {
  if (entry === undefined) return [];
  const out = [`  ${'trap_adjacent'.padEnd(18)} ${entry.traps.map(formatStep).join(', ') || '(none)'}`];
  for (const { step, reason } of entry.skipped) out.push(`  ${''.padEnd(18)} not ${formatStep(step)}: ${reason}`);
  return out;
}

// What the knock LOG rules hold for rotating doors. A door bound to the source logs its whole
// range; the others the ports of their accepted windows, which are derived from the secret:
// without --show-secrets they are left out of the rules shown, and only counted here.
function describeRotatingPorts(doors: readonly Door[], shown: boolean): string[] {
  const out: string[] = [];
  for (const door of doors) {
    const knock = door.knock;
    if (knock.kind !== 'rotating') continue;
    const range = `${knock.range.low}-${knock.range.high}`;
    if (knock.bindSource) {
      out.push(`[${door.name}] logs every port of ${range} (${knock.range.high - knock.range.low + 1 - knock.exclude.length} ports; bind_source: each address has its own sequence).`);
      continue;
    }
    const windows = 2 * knock.skew + 1;
    const ports = `up to ${windows * knock.length} ports of ${range}: ${windows} accepted window${windows === 1 ? '' : 's'} of ${knock.length}, turning every ${formatSeconds(knock.rotate * 1000)}`;
    out.push(shown ? `[${door.name}] logs the ports of its accepted windows at this time (${ports}), in the rules above.`
      : `[${door.name}] logs the ports of its accepted windows (${ports}), left out here: they are derived from its secret (--show-secrets shows them).`);
  }
  return out;
}

// --show-secrets: what a rotating door expects now and in the next window. Anyone who sees
// these can knock until the window turns, so they are never printed by default.
function describeSequences(door: Door, at: number | undefined): string[] {
  const knock = door.knock;
  if (at === undefined || knock.kind !== 'rotating') return [];
  const kind = createDoorKind(knock) as RotatingKind;
  if (knock.bindSource) return [`  ${'sequences'.padEnd(18)} one per knocking address (bind_source): knockwatch knock --source ADDR`];
  return [[0, 'current'], [1, 'next']].map(([offset, label]) => {
    const start = windowStartOf(at, knock.rotate) + Number(offset) * knock.rotate;
    const steps = kind.sequenceAt(at, Number(offset)).map(formatStep).join(', ');
    return `  ${String(label).padEnd(18)} ${steps} (window from ${new Date(start * 1000).toISOString()})`;
  });
}
