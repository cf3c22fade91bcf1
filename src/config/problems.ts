export interface ConfigProblem {
  file: string;
  section: string;
  key: string;
  expected: string;
  found: string;
}

export function formatProblem(problem: ConfigProblem): string {
  const where = [problem.file, problem.section ? `[${problem.section}]` : '', problem.key].filter(Boolean).join(' ');
  const found = problem.found === '' ? 'nothing' : `"${problem.found}"`;
  return `${where}: expected ${problem.expected}, found ${found}`;
}

// Something accepted that does not do what it seems to; `message` is a sentence.
export interface ConfigWarning {
  file: string;
  section: string;
  key: string;
  message: string;
}

export function formatWarning(warning: ConfigWarning): string {
  const where = [warning.file, warning.section ? `[${warning.section}]` : '', warning.key].filter(Boolean).join(' ');
  return `${where}: ${warning.message}`;
}

// A config that cannot be used; carries every problem found, not just the first.
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
