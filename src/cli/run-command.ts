import { existsSync } from 'node:fs';
import { loadConfigFile } from '../config/load-config.js';
import { Daemon } from '../runtime/daemon.js';
import { ControlSocketInUse, startControlServer, type ControlServer } from '../runtime/control-socket.js';
import type { ControlTarget } from '../runtime/control-types.js';
import { createLogger, isUnderSystemd, type Logger } from '../runtime/logger.js';
import { StartError } from '../runtime/preflight.js';
import { DEFAULT_CONFIG, loadFilter } from './inputs.js';
import type { CliValues } from './values.js';
import { line, type Deps, type SignalSource } from './output.js';
import { UsageError } from './usage-error.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT'];

// The daemon in the foreground: runs until SIGTERM or SIGINT; SIGHUP reloads the config.
export async function runDaemon(rest: readonly string[], values: CliValues, deps: Deps): Promise<number> {
  // Signals are caught before anything else: a SIGHUP or SIGTERM while the daemon starts is
  // kept and acted on once it has started, never the default action (death mid-install).
  const caught = catchSignals(deps.signals);
  try {
    const daemon = createDaemon('run', rest, values, deps);
    const socketPath = values['control-socket'] ?? daemon.config.options.controlSocket;
    // The socket is taken before the firewall is touched: a second knockwatch finds it
    // answering and stops, however early it comes.
    let started = false;
    const control = await serveControl(whenStarted(daemon, () => started), socketPath, cliLogger(values, deps));
    if (control === 'in use') {
      line(deps.stderr, 'knockwatch: cannot start; the firewall was not changed:');
      line(deps.stderr, `  ${new ControlSocketInUse(socketPath).message}`);
      return 1;
    }
    try {
      const refused = await startOrReport(daemon, deps);
      if (refused !== undefined) return refused;
      started = true;
      return await serve(daemon, caught);
    } finally {
      await control?.close();
    }
  } finally {
    caught.release();
  }
}

// The daemon as the socket sees it: until it has started, every request is told so.
function whenStarted(daemon: Daemon, started: () => boolean): ControlTarget {
  const starting = 'knockwatch is starting; ask again in a moment.';
  return {
    status: () => {
      if (!started()) throw new Error(starting);
      return daemon.status();
    },
    unban: async (src) => (started() ? await daemon.unban(src) : { ok: false, error: starting }),
    close: async (src, door) => (started() ? await daemon.close(src, door) : { ok: false, error: starting }),
  };
}

// Opens the control socket. Another knockwatch answering on it stops this one; any other
// failure is a warning only: the firewall is what matters.
export async function serveControl(target: ControlTarget, socketPath: string, logger: Logger): Promise<ControlServer | 'in use' | undefined> {
  try {
    const server = await startControlServer(target, socketPath);
    logger.log('info', `Answering status, unban and close on ${socketPath}.`);
    return server;
  } catch (error) {
    if (error instanceof ControlSocketInUse) return 'in use';
    logger.log('warning', `The control socket did not open: ${(error as Error).message}; knockwatch status, unban and close will not answer.`);
    return undefined;
  }
}

function cliLogger(values: CliValues, deps: Deps): Logger {
  return createLogger({ out: deps.stderr, clock: deps.clock, journald: isUnderSystemd(deps.env), verbose: values.verbose === true });
}

// Starts the daemon; when it cannot start, says why and returns the exit status.
export async function startOrReport(daemon: Daemon, deps: Deps): Promise<number | undefined> {
  try {
    await daemon.start();
    return undefined;
  } catch (error) {
    if (!(error instanceof StartError)) throw error;
    line(deps.stderr, 'knockwatch: cannot start; the firewall was not changed:');
    for (const problem of error.problems) line(deps.stderr, `  ${problem.message}`);
    return error.exitCode;
  }
}

export function createDaemon(command: string, rest: readonly string[], values: CliValues, deps: Deps): Daemon {
  if (rest.length > 0) throw new UsageError(`${command} takes no arguments (found "${rest[0]}"); use --log PATH`);
  const configPath = values.config ?? DEFAULT_CONFIG;
  if (!existsSync(configPath)) {
    throw new UsageError(`no config at ${configPath}: create one with "knockwatch init --config ${configPath}", or point --config at your knockd.conf`);
  }
  const config = loadConfigFile(configPath, values.firewall);
  const logger = cliLogger(values, deps);
  return new Daemon(
    { configPath, kernLog: values.log, authLog: values['auth-log']?.[0], firewall: values.firewall, stateFile: values['state-file'], dryRunFile: values.record },
    { clock: deps.clock, runner: deps.runner, logger, filter: loadFilter('netfilter'), authFilter: loadFilter('sshd') },
    config,
  );
}

export interface CaughtSignals {
  // Until handled, signals are remembered in order.
  handle(handler: (signal: NodeJS.Signals) => void): void;
  release(): void;
}

export function catchSignals(source: SignalSource): CaughtSignals {
  const pending: NodeJS.Signals[] = [];
  let handler: ((signal: NodeJS.Signals) => void) | undefined;
  const listener = (signal: NodeJS.Signals): void => {
    if (handler === undefined) pending.push(signal);
    else handler(signal);
  };
  for (const signal of SIGNALS) source.on(signal, listener);
  return {
    handle(next) {
      handler = next;
      for (const signal of pending.splice(0)) next(signal);
    },
    release() {
      for (const signal of SIGNALS) source.off(signal, listener);
    },
  };
}

// Runs until SIGTERM or SIGINT; reloads run one after another, and a stop waits for them.
export async function serve(daemon: Daemon, caught: CaughtSignals): Promise<number> {
  return await new Promise<number>((resolve) => {
    let reloading: Promise<unknown> = Promise.resolve();
    let stopping = false;
    caught.handle((signal) => {
      if (stopping) return;
      if (signal === 'SIGHUP') {
        // A reload that throws must not end the chain that SIGTERM waits on.
        reloading = reloading.then(() => daemon.reload()).catch(() => false);
        return;
      }
      stopping = true;
      void reloading.then(() => daemon.stop(signal)).then(() => resolve(0));
    });
  });
}
