import { execFileSync } from 'node:child_process';
import { execaRunner, type CommandRunner } from '../../src/firewall/command-runner.js';

// A private network namespace for real firewall tests: nothing outside it is touched.
export interface Namespace {
  name: string;
  runner: CommandRunner;
  // Runs a command inside the namespace; throws on failure.
  exec(file: string, args: readonly string[]): string;
  remove(): void;
}

export function createNamespace(name: string): Namespace {
  execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  return {
    name,
    runner: { run: (file, args, options) => execaRunner.run('ip', ['netns', 'exec', name, file, ...args], options) },
    exec: (file, args) => execFileSync('ip', ['netns', 'exec', name, file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    remove: () => execFileSync('ip', ['netns', 'delete', name], { stdio: 'pipe' }),
  };
}
