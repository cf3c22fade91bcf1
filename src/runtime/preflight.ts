import { closeSync, openSync, statSync } from 'node:fs';
import { formatProblem } from '../config/problems.js';
import type { Config } from '../config/types.js';

// A reason the daemon cannot run: `config` (exit 2) for what the config or command line must
// change, `runtime` (exit 1) for what the machine lacks.
export interface StartProblem {
  kind: 'config' | 'runtime';
  message: string;
}

export class StartError extends Error {
  constructor(readonly problems: readonly StartProblem[]) {
    super(problems.map((problem) => problem.message).join('\n'));
    this.name = 'StartError';
  }

  get exitCode(): number {
    return this.problems.some((problem) => problem.kind === 'config') ? 2 : 1;
  }
}

export interface SourcePaths {
  kernLog: string | undefined;
  authLog: string | undefined;
}

// Every log the daemon is to follow must be there and readable now: a daemon that cannot
// see knocks must never install a gate.
export function checkSources(config: Config, paths: SourcePaths): StartProblem[] {
  const problems: StartProblem[] = [];
  if (paths.kernLog === undefined) {
    problems.push({
      kind: 'config',
      message: formatProblem({ file: config.file, section: 'options', key: 'kern_log', expected: 'the kernel log to read knocks from (or --log PATH)', found: '' }),
    });
  }
  for (const [key, path] of [['kern_log', paths.kernLog], ['auth_log', paths.authLog]] as const) {
    if (path === undefined) continue;
    const reason = unreadable(path);
    if (reason !== undefined) problems.push({ kind: 'runtime', message: `${key} ${path}: ${reason}; knockwatch needs to read it before it changes the firewall.` });
  }
  return problems;
}

// Why a log file cannot be read, or undefined when it can.
function unreadable(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'not a regular file';
    closeSync(openSync(path, 'r'));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    return (error as Error).message;
  }
}
