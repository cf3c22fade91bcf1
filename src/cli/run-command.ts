import { existsSync } from 'node:fs';
import { loadConfigFile } from '../config/load-config.js';
import type { FirewallKind } from '../config/types.js';
import { execaRunner } from '../firewall/command-runner.js';
import { Daemon } from '../runtime/daemon.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger, isUnderSystemd } from '../runtime/logger.js';
import { DEFAULT_CONFIG, loadFilter } from './inputs.js';
import type { CliValues } from './main.js';
import { line, type CliDeps } from './output.js';
import { UsageError } from './usage-error.js';

const FIREWALLS = ['nftables', 'iptables', 'command', 'dry-run'];

// The daemon in the foreground: runs until SIGTERM or SIGINT; SIGHUP reloads the config.
export async function runDaemon(rest: readonly string[], values: CliValues, deps: CliDeps): Promise<number> {
  if (rest.length > 0) throw new UsageError(`run takes no arguments (found "${rest[0]}"); use --log PATH`);
  const configPath = values.config ?? DEFAULT_CONFIG;
  if (!existsSync(configPath)) {
    throw new UsageError(`no config at ${configPath}: create one with "knockwatch init --config ${configPath}", or point --config at your knockd.conf`);
  }
  if (values.firewall !== undefined && !FIREWALLS.includes(values.firewall)) {
    throw new UsageError(`--firewall: expected ${FIREWALLS.join(' | ')}, found "${values.firewall}"`);
  }
  const config = loadConfigFile(configPath);
  const logger = createLogger({ out: deps.stderr, clock: systemClock, journald: isUnderSystemd(deps.env), verbose: values.verbose === true });
  const daemon = new Daemon(
    { configPath, kernLog: values.log, authLog: values['auth-log']?.[0], firewall: values.firewall as FirewallKind | undefined, stateFile: values['state-file'], dryRunFile: values.record },
    { clock: systemClock, runner: execaRunner, logger, filter: loadFilter('netfilter'), authFilter: loadFilter('sshd') },
    config,
  );
  try {
    await daemon.start();
  } catch (error) {
    line(deps.stderr, `knockwatch: cannot start: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }
  return await new Promise<number>((resolve) => {
    let reloading = Promise.resolve(true);
    const onHup = (): void => {
      reloading = reloading.then(() => daemon.reload());
    };
    const onStop = (signal: NodeJS.Signals): void => {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      void reloading.then(() => daemon.stop(signal)).then(() => resolve(0));
    };
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
  });
}
