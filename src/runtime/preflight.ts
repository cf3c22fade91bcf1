import { closeSync, openSync, statSync } from 'node:fs';
import type { Config, FirewallKind } from '../config/types.js';
import { markProblem } from '../doors/one-time-file.js';
import type { FirewallBackend } from '../firewall/backend.js';
import { chooseFirewall } from '../firewall/select-backend.js';
import { chooseSources, defaultProbes, type SourceOverrides, type SourceProbes, type SourceSelection } from './source-choice.js';

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

// Every source the daemon is to read must be readable now: a daemon that cannot see knocks
// must never install a gate.
async function checkSources(selection: SourceSelection, probes: SourceProbes): Promise<StartProblem[]> {
  const problems: StartProblem[] = [];
  let journalChecked = false;
  for (const [role, chosen] of [['kernel', selection.kernel], ['auth', selection.auth]] as const) {
    const spec = chosen.spec;
    const key = role === 'kernel' ? 'kernel_source' : 'auth_source';
    if (spec?.kind === 'kmsg') {
      const reason = probes.kmsgReadable();
      if (reason !== undefined) {
        problems.push({ kind: 'runtime', message: `${key} ${chosen.summary}: /dev/kmsg cannot be read (${reason}); knockwatch must see knocks before it changes the firewall: run it as root, or set kernel_source = journal or file:PATH.` });
      }
    } else if (spec?.kind === 'journal' && !journalChecked) {
      journalChecked = true;
      const journalctl = probes.journalctlPath();
      if (journalctl === undefined) {
        problems.push({ kind: 'runtime', message: `${key} journal: journalctl not found; install systemd's journalctl or choose another source.` });
      }
      const reason = spec.directory === undefined ? undefined : notADirectory(spec.directory);
      if (reason !== undefined) {
        problems.push({ kind: 'runtime', message: `journal_directory ${spec.directory}: ${reason}; knockwatch needs to read the journal before it changes the firewall.` });
      } else if (journalctl !== undefined) {
        // journalctl starts in the background and would only fail later, gate installed.
        const unread = await probes.journalUnreadable(spec.directory);
        if (unread !== undefined) problems.push({ kind: 'runtime', message: `${key} ${chosen.summary}: ${unread}; knockwatch needs to read the journal before it changes the firewall (run it as root, or choose another source).` });
      }
    } else if (spec?.kind === 'file') {
      const reason = unreadable(spec.name);
      const label = role === 'kernel' ? 'kern_log' : 'auth_log';
      if (reason !== undefined) problems.push({ kind: 'runtime', message: `${label} ${spec.name}: ${reason}; knockwatch needs to read it before it changes the firewall.` });
    }
  }
  return problems;
}

export interface Preflight {
  problems: StartProblem[];
  // The backend the config would use, when one could be chosen.
  backend: FirewallBackend | undefined;
  kind: FirewallKind | undefined;
  // The sources the config (with --log, --auth-log) resolves to, and why.
  sources: SourceSelection;
}

// Everything `run` checks before its first firewall change (and `check` reports): the
// sources, the firewall kind, and whether that firewall works here. Nothing is changed.
export async function preflight(config: Config, overrides: SourceOverrides, override: FirewallKind | undefined,
  makeBackend: (kind: FirewallKind) => FirewallBackend, probes: SourceProbes = defaultProbes): Promise<Preflight> {
  const sources = await chooseSources(config.options, overrides, probes);
  const problems = await checkSources(sources, probes);
  // The daemon marks each used one-time line before the door opens: a file it cannot mark
  // would open nothing at all.
  for (const { name, knock } of config.doors) {
    if (knock.kind !== 'one-time' || knock.file === undefined) continue;
    const reason = markProblem(knock.file);
    if (reason !== undefined) problems.push({ kind: 'runtime', message: `[${name}] one_time_sequences ${knock.file}: ${reason}; knockwatch marks each used line there before the door opens (with systemd, add the directory to ReadWritePaths).` });
  }
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
  return { problems, backend, kind, sources };
}

// Why a journal directory cannot be read, or undefined when it can.
function notADirectory(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? undefined : 'not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such directory' : (error as Error).message;
  }
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
