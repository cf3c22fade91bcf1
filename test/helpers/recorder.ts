import type { CommandResult, CommandRunner } from '../../src/firewall/command-runner.js';

// A CommandRunner that records every command (argv, then its input on the next lines) and
// answers with `answer`, success by default.
export function recorder(answer: (line: string) => Partial<CommandResult> | undefined = () => undefined): { runner: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    runner: {
      run: async (file, args, options) => {
        const line = [file, ...args].join(' ') + (options?.input ? `\n${options.input}` : '');
        calls.push(line);
        const given = answer(line) ?? {};
        const failed = given.failed ?? false;
        return { exitCode: failed ? 1 : 0, stdout: '', stderr: '', reason: failed ? 'exit status 1' : '', ...given, failed };
      },
    },
  };
}
