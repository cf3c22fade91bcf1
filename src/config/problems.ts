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

// A config that cannot be used; carries every problem found, not just the first.
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
