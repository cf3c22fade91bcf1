import { maskRedisUrl } from './redis-url.js';

export interface ConfigProblem {
  file: string;
  section: string;
  key: string;
  expected: string;
  found: string;
}

// Whatever part of the file a problem quotes (a key, a whole line, a value), a Redis URL in it
// is shown with its secrets masked (redis-url.ts): a problem can quote the [fleet] section's
// `redis` line in more ways than the fleet's own checks see it.
export function formatProblem(problem: ConfigProblem): string {
  const where = [problem.file, problem.section ? `[${problem.section}]` : '', withoutRedisSecrets(problem.key)].filter(Boolean).join(' ');
  const found = problem.found === '' ? 'nothing' : `"${withoutRedisSecrets(problem.found)}"`;
  return `${where}: expected ${problem.expected}, found ${found}`;
}

function withoutRedisSecrets(text: string): string {
  return text.replace(/rediss?:\/\/\S*/gi, (url) => maskRedisUrl(url));
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
