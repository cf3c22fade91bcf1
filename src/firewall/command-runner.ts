
export interface CommandResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  failed: boolean;
  // Why it failed, in one line: exit status, timeout, or "not found".
  reason: string;
}

export interface CommandOptions {
  input?: string;
  timeout?: number;
}

// Runs a program with an argv array, never through a shell.
export interface CommandRunner {
  run(file: string, args: readonly string[], options?: CommandOptions): Promise<CommandResult>;
}

const DEFAULT_TIMEOUT = 15_000;

export const execaRunner: CommandRunner = {
  async run(file, args, options = {}) {
    // Loaded on first use: replay, parse and check start ~80 ms sooner without it.
    const { execa } = await import('execa');
    const result = await execa(file, [...args], {
      reject: false,
      shell: false,
      timeout: options.timeout ?? DEFAULT_TIMEOUT,
      input: options.input ?? '',
      stripFinalNewline: true,
      env: { LC_ALL: 'C' },
    });
    const stderr = String(result.stderr ?? '');
    let reason = '';
    if (result.failed) {
      const code = (result as { code?: string }).code;
      if (code === 'ENOENT') reason = `${file} not found`;
      else if (result.timedOut) reason = `timed out after ${options.timeout ?? DEFAULT_TIMEOUT} ms`;
      else reason = `exit status ${result.exitCode ?? '?'}${stderr ? `: ${stderr.split('\n')[0]}` : ''}`;
    }
    return { exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr, failed: result.failed, reason };
  },
};

export class FirewallCommandError extends Error {
  constructor(file: string, args: readonly string[], reason: string) {
    super(`${file} ${args.join(' ')}: ${reason}`);
    this.name = 'FirewallCommandError';
  }
}

export async function runOrThrow(runner: CommandRunner, file: string, args: readonly string[], options?: CommandOptions): Promise<CommandResult> {
  const result = await runner.run(file, args, options);
  if (result.failed) throw new FirewallCommandError(file, args, result.reason);
  return result;
}
