import { parseArgs } from 'node:util';
import { ConfigError } from '../config/problems.js';
import { line, withDefaults, type CliDeps } from './output.js';
import { OPTIONS, toCliValues } from './values.js';

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
      const { commandHelp, USAGE } = await import('./usage.js');
      const help = command === undefined ? USAGE : commandHelp(command);
      if (help === undefined) throw await unknownCommand(command);
      deps.stdout.write(help);
      return 0;
    }
    if (parsed.values.version) {
      line(deps.stdout, `knockwatch ${(await import('./version.js')).readVersion()}`);
      return 0;
    }
    const values = toCliValues(parsed.values);
    // Each command loads only its own modules: a replay never loads the firewall's.
    switch (command) {
      case 'replay':
        return await (await import('./replay-command.js')).runReplay(rest, values, deps);
      case 'parse':
        return await (await import('./parse-command.js')).runParse(rest, values, deps);
      case 'check':
        return await (await import('./check-command.js')).runCheck(rest, values, deps);
      case 'run':
        return await (await import('./run-command.js')).runDaemon(rest, values, deps);
      case 'try':
        return await (await import('./try-command.js')).runTry(rest, values, deps);
      case 'init':
        return (await import('./admin-commands.js')).runInit(rest, values, deps);
      case 'flush':
        return await (await import('./admin-commands.js')).runFlush(rest, deps);
      case 'status':
        return await (await import('./status-command.js')).runStatus(rest, values, deps);
      case 'unban':
        return await (await import('./status-command.js')).runUnban(rest, values, deps);
      case 'close':
        return await (await import('./status-command.js')).runClose(rest, values, deps);
      case 'knock':
        return await (await import('../client/knock-command.js')).runKnock(rest, values, deps);
      case undefined:
        if (values.log !== undefined || values.config !== undefined) return await (await import('./run-command.js')).runDaemon(rest, values, deps);
        deps.stderr.write((await import('./usage.js')).USAGE);
        return 2;
      default:
        throw await unknownCommand(command);
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

// The help text is loaded only when asked for (or a command is wrong): a command never needs it.
async function unknownCommand(command: string | undefined): Promise<UsageError> {
  const { COMMANDS } = await import('./usage.js');
  return new UsageError(`unknown command "${command}" (${[...COMMANDS.keys()].join(', ')}; see --help)`);
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
