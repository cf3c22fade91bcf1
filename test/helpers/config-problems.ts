import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError, formatProblem, formatWarning } from '../../src/config/problems.js';

// Every problem of a config as formatted text ([] when it loads).
export function configProblems(text: string, file = 'knockwatch.ini'): string[] {
  try {
    parseConfig(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

export function configWarnings(text: string, file = 'knockwatch.ini'): string[] {
  return parseConfig(text, file).warnings.map(formatWarning);
}
