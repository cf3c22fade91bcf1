import { parseArgs } from 'node:util';
import { ConfigError } from '../config/problems.js';
import { runFlush, runInit } from './admin-commands.js';
import { runCheck } from './check-command.js';
import { runDaemon } from './run-command.js';
import { runTry } from './try-command.js';
import { line, type CliDeps } from './output.js';
import { runParse } from './parse-command.js';
import { runReplay } from './replay-command.js';
import { runClose, runStatus, runUnban } from './status-command.js';
import { USAGE } from './usage.js';
import { readVersion } from './version.js';

export { UsageError } from './usage-error.js';
import { UsageError } from './usage-error.js';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  verbose: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  timezone: { type: 'string' },
  filter: { type: 'string' },
  log: { type: 'string', short: 'l' },
  'auth-log': { type: 'string', multiple: true },
  firewall: { type: 'string' },
  'state-file': { type: 'string' },
  record: { type: 'string' },
  force: { type: 'boolean' },
  timeout: { type: 'string' },
  'control-socket': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

export type CliValues = {
  config?: string | undefined;
  verbose?: boolean | undefined;
  json?: boolean | undefined;
  timezone?: string | undefined;
  filter?: string | undefined;
  log?: string | undefined;
  'auth-log'?: string[] | undefined;
  firewall?: string | undefined;
  'state-file'?: string | undefined;
  record?: string | undefined;
  force?: boolean | undefined;
  timeout?: string | undefined;
  'control-socket'?: string | undefined;
};

// Parses the command line, runs one command and returns the exit status:
// 0 ok, 1 runtime failure, 2 usage or config error.
export async function main(argv: readonly string[], deps: CliDeps): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      deps.stdout.write(USAGE);
      return 0;
    }
    if (values.version) {
      line(deps.stdout, `knockwatch ${readVersion()}`);
      return 0;
    }
    const [command, ...rest] = positionals;
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
        throw new UsageError(`unknown command "${command}" (run, try, status, unban, close, replay, parse, check, init, flush; see --help)`);
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

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
