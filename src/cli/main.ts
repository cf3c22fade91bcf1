import { parseArgs } from 'node:util';
import { ConfigError } from '../config/problems.js';
import { runFlush, runInit } from './admin-commands.js';
import { runCheck } from './check-command.js';
import { runDaemon } from './run-command.js';
import { runTry } from './try-command.js';
import { line, withDefaults, type CliDeps } from './output.js';
import { runParse } from './parse-command.js';
import { runReplay } from './replay-command.js';
import { runClose, runStatus, runUnban } from './status-command.js';
import { commandHelp, COMMANDS, USAGE } from './usage.js';
import { OPTIONS, toCliValues } from './values.js';
import { readVersion } from './version.js';

export { UsageError } from './usage-error.js';
import { UsageError } from './usage-error.js';

// Parses the command line, runs one command and returns the exit status:
// 0 ok, 1 runtime failure, 2 usage or config error.
export async function main(argv: readonly string[], given: CliDeps): Promise<number> {
  const deps = withDefaults(given);
  try {
    const parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = parsed.positionals;
    if (parsed.values.help) {
      const help = command === undefined ? USAGE : commandHelp(command);
      if (help === undefined) throw unknownCommand(command);
      deps.stdout.write(help);
      return 0;
    }
    if (parsed.values.version) {
      line(deps.stdout, `knockwatch ${readVersion()}`);
      return 0;
    }
    const values = toCliValues(parsed.values);
    switch (command) {
      case 'replay':
        return await runReplay(rest, values, deps);
      case 'parse':
        return await runParse(rest, values, deps);
      case 'check':
        return await runCheck(rest, values, deps);
      case 'run':
        return await runDaemon(rest, values, deps);
      case 'try':
        return await runTry(rest, values, deps);
      case 'init':
        return runInit(rest, values, deps);
      case 'flush':
        return await runFlush(rest, deps);
      case 'status':
        return await runStatus(rest, values, deps);
      case 'unban':
        return await runUnban(rest, values, deps);
      case 'close':
        return await runClose(rest, values, deps);
      case undefined:
        if (values.log !== undefined || values.config !== undefined) return await runDaemon(rest, values, deps);
        deps.stderr.write(USAGE);
        return 2;
      default:
        throw unknownCommand(command);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      line(deps.stderr, `knockwatch: the config has ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}:`);
      line(deps.stderr, error.message);
      return 2;
    }
    if (error instanceof UsageError || isParseArgsError(error)) {
      line(deps.stderr, `knockwatch: ${(error as Error).message}`);
      line(deps.stderr, 'Try knockwatch --help.');
      return 2;
    }
    line(deps.stderr, `knockwatch: ${(error as Error).message}`);
    return 1;
  }
}

function unknownCommand(command: string | undefined): UsageError {
  return new UsageError(`unknown command "${command}" (${[...COMMANDS.keys()].join(', ')}; see --help)`);
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
