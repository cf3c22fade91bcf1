import { formatStep, type Config, type Door, type FirewallKind } from '../config/types.js';
import { execaRunner } from '../firewall/command-runner.js';
import { chooseFirewall, createBackend } from '../firewall/select-backend.js';
import type { FirewallBackend } from '../firewall/backend.js';
import { systemClock } from '../runtime/clock.js';
import { checkSources, StartError } from '../runtime/preflight.js';
import { formatSeconds } from './format-time.js';
import { DEFAULT_CONFIG, loadConfigFor } from './inputs.js';
import { UsageError } from './usage-error.js';
import type { CliValues } from './main.js';
import { line, type CliDeps } from './output.js';

// Validates the config and prints the doors and exactly the firewall plan start would
// install, without touching the firewall.
export async function runCheck(rest: readonly string[], values: CliValues, deps: CliDeps): Promise<number> {
  if (rest.length > 0) throw new UsageError(`check takes no file argument (use --config ${rest[0]})`);
  const config = loadConfigFor(values, DEFAULT_CONFIG);
  for (const text of describeConfig(config)) line(deps.stdout, text);
  const problems = checkSources(config, { kernLog: values.log ?? config.options.kernLog, authLog: values['auth-log']?.[0] ?? config.options.authLog });
  let backend: FirewallBackend | undefined;
  try {
    backend = createBackend(chooseFirewall(config, values.firewall as FirewallKind | undefined), config, deps.runner ?? execaRunner);
    const problem = await backend.probe();
    if (problem !== undefined) problems.push({ kind: 'runtime', message: problem });
  } catch (error) {
    problems.push({ kind: 'runtime', message: (error as Error).message });
  }
  if (backend !== undefined) {
    line(deps.stdout);
    line(deps.stdout, `Firewall plan (${backend.name}; not applied):`);
    deps.stdout.write(backend.plan([], systemClock.now()));
  }
  if (problems.length === 0) return 0;
  // The same checks `run` makes before its first firewall change.
  line(deps.stderr, `knockwatch: ${config.file} is valid, but knockwatch cannot run with it:`);
  for (const problem of problems) line(deps.stderr, `  ${problem.message}`);
  return new StartError(problems).exitCode;
}

export function describeConfig(config: Config): string[] {
  const { options } = config;
  const out = [`${config.file}: ok, ${config.doors.length} door${config.doors.length === 1 ? '' : 's'}.`, '', '[options]'];
  const show = (key: string, value: string): void => {
    out.push(`  ${key.padEnd(18)} ${value}`);
  };
  show('firewall', options.firewall ?? 'auto (nftables where nft exists, else iptables; command if doors have start_command)');
  show('whitelist', options.whitelist.map((network) => network.text).join(', ') || '(none)');
  show('kern_log', options.kernLog ?? '(from --log)');
  show('auth_log', options.authLog ?? '(none)');
  show('state_file', options.stateFile);
  show('log_prefix', options.logPrefix ?? '(any)');
  show('timezone', options.timeZone ?? '(local)');
  show('max_tracked', String(options.maxTracked));
  show('retransmit_window', formatSeconds(options.retransmitWindow));
  show('maxretry', `${options.maxRetry} sshd failures within ${formatSeconds(options.findTime)} ban for ${formatSeconds(options.banTime)} (doubling per repeat, at most ${formatSeconds(options.banTimeMax)})`);
  show('logout_grace', formatSeconds(options.logoutGrace));
  if (options.trapPorts.length > 0) show('trap_ports', `${options.trapPorts.map(formatStep).join(', ')} (refused for ${formatSeconds(options.trapFor)})`);
  for (const door of config.doors) out.push('', ...describeDoor(door));
  if (config.unused.length > 0) {
    out.push('', 'Accepted but unused (knockd keys knockwatch does not need):');
    for (const key of config.unused) out.push(`  ${key}`);
  }
  return out;
}

function describeDoor(door: Door): string[] {
  const out = [`[${door.name}]`];
  const show = (key: string, value: string): void => {
    out.push(`  ${key.padEnd(18)} ${value}`);
  };
  if (door.oneTimeSequences) show('one_time_sequences', `${door.oneTimeSequences.length} sequences, used in order`);
  else show('sequence', `${door.sequence.map(formatStep).join(', ')}${door.order === 'any' ? ' (any order)' : ''}`);
  show('seq_timeout', formatSeconds(door.seqTimeout));
  show('tcpflags', door.tcpflags?.text ?? '(any)');
  if (door.destination) show('destination', door.destination);
  if (door.strict) show('strict', 'yes (any other packet from the source breaks the attempt)');
  if (door.closes) show('closes', door.closes);
  else show('opens', `${door.open.map(formatStep).join(', ')} for ${door.openFor === 0 ? 'until closed' : formatSeconds(door.openFor)}`);
  if (door.closeOnLogout) show('close_on_logout', 'yes');
  if (door.startCommand) show('start_command', door.startCommand);
  if (door.stopCommand) show('stop_command', door.stopCommand);
  return out;
}
