import type { CommandRunner } from '../firewall/command-runner.js';
import type { ControlClient } from './control-client.js';
import { execaRunner } from '../firewall/command-runner.js';
import { systemClock, type Clock } from '../runtime/clock.js';

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
}

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

// Everything a command touches outside itself: tests give their own; what a caller leaves
// out is the real one (see withDefaults).
export interface CliDeps {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  // Where the daemon's signals come from (the process unless a test gives its own).
  signals?: SignalSource;
  // What the admin types (`knockwatch try` waits for "yes").
  stdin?: NodeJS.ReadableStream;
  // Runs firewall and door commands (execa unless a test gives its own).
  runner?: CommandRunner;
  // The host's time (the system clock unless a test gives its own).
  clock?: Clock;
  // What `status`, `unban` and `close` ask the running daemon through (a client of the
  // configured control socket unless a test gives its own).
  control?: ControlClient;
}

// CliDeps with the real parts filled in where a caller gave none.
export type Deps = CliDeps & Required<Pick<CliDeps, 'signals' | 'runner' | 'clock'>>;

export function withDefaults(deps: CliDeps): Deps {
  return { ...deps, signals: deps.signals ?? process, runner: deps.runner ?? execaRunner, clock: deps.clock ?? systemClock };
}

export function line(out: Output, text = ''): void {
  out.write(`${text}\n`);
}

const BUFFERED = 65_536;

// Collects writes and hands them on in pieces of about 64 KiB: a replay's thousands of
// decision lines cost a few writes instead of one system call each. flush() at the end.
export function bufferedOutput(out: Output): Output & { flush(): void } {
  let pending = '';
  const flush = (): void => {
    if (pending.length === 0) return;
    out.write(pending);
    pending = '';
  };
  return {
    isTTY: out.isTTY,
    write(text: string): void {
      pending += text;
      if (pending.length >= BUFFERED) flush();
    },
    flush,
  };
}
