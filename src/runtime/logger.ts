import type { Output } from '../cli/output.js';
import type { Clock } from './clock.js';

export type Level = 'debug' | 'info' | 'notice' | 'warning' | 'error';

// syslog priorities, as journald reads them from a `<N>` line prefix.
const PRIORITY: Record<Level, number> = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export interface Logger {
  log(level: Level, message: string): void;
}

export interface LoggerOptions {
  out: Output;
  clock: Clock;
  // Under systemd (JOURNAL_STREAM set) journald adds the time; lines carry `<N>` priorities.
  journald: boolean;
  verbose: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  return {
    log(level, message) {
      if (level === 'debug' && !options.verbose) return;
      const text = message.replace(/[\r\n]+/g, ' ');
      if (options.journald) options.out.write(`<${PRIORITY[level]}>${text}\n`);
      else options.out.write(`${new Date(options.clock.now()).toISOString()} ${level.toUpperCase().padEnd(7)} ${text}\n`);
    },
  };
}

export function isUnderSystemd(env: Record<string, string | undefined>): boolean {
  return env.JOURNAL_STREAM !== undefined || env.INVOCATION_ID !== undefined;
}
