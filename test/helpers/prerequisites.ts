import { execFileSync } from 'node:child_process';
import { findProgram } from '../../src/firewall/select-backend.js';

// In CI (KNOCKWATCH_E2E_REQUIRED=1) a missing prerequisite is a failure; elsewhere the
// suite is skipped with the reason.
export const required = process.env.KNOCKWATCH_E2E_REQUIRED === '1';

export function missingPrerequisites(programs: readonly string[], needRoot: boolean): string[] {
  const missing: string[] = [];
  if (needRoot && process.getuid?.() !== 0) missing.push('root');
  for (const program of programs) if (!findProgram(program)) missing.push(program);
  return missing;
}

export function explainSkip(suite: string, missing: readonly string[]): void {
  if (missing.length === 0) return;
  const message = `${suite}: missing ${missing.join(', ')}`;
  if (required) throw new Error(`${message} (KNOCKWATCH_E2E_REQUIRED=1: prerequisites must be there in CI)`);
  console.warn(`Skipping ${message}.`);
}

export function run(file: string, args: readonly string[]): string {
  return execFileSync(file, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
