import type { CommandRunner } from '../firewall/command-runner.js';
import type { ControlClient } from './control-client.js';

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
}

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

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
  // Asks the running daemon (its control socket unless a test gives its own).
  control?: ControlClient;
}

export function line(out: Output, text = ''): void {
  out.write(`${text}\n`);
}
