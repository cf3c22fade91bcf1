import { closeSync, openSync, statSync } from 'node:fs';
import { formatProblem } from '../config/problems.js';
import type { Config, FirewallKind } from '../config/types.js';
import type { FirewallBackend } from '../firewall/backend.js';
import { chooseFirewall } from '../firewall/select-backend.js';

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
function checkSources(config: Config, paths: SourcePaths): StartProblem[] {
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

export interface Preflight {
  problems: StartProblem[];
  // The backend the config would use, when one could be chosen.
  backend: FirewallBackend | undefined;
  kind: FirewallKind | undefined;
}

// Everything `run` checks before its first firewall change (and `check` reports): the logs,
// the firewall kind, and whether that firewall works here. Nothing is changed.
export async function preflight(config: Config, paths: SourcePaths, override: FirewallKind | undefined,
  makeBackend: (kind: FirewallKind) => FirewallBackend): Promise<Preflight> {
  const problems = checkSources(config, paths);
  let kind: FirewallKind | undefined;
  let backend: FirewallBackend | undefined;
  try {
    kind = chooseFirewall(config, override);
    backend = makeBackend(kind);
    const problem = await backend.probe();
    if (problem !== undefined) problems.push({ kind: 'runtime', message: problem });
  } catch (error) {
    problems.push({ kind: 'runtime', message: (error as Error).message });
  }
  return { problems, backend, kind };
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
