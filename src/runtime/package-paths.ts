import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

// The installed package's top folder (the one holding filters/), found from this module's
// location so it works from src/ under the test runner and from dist/ when installed.
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'filters'))) {
      root = dir;
      return dir;
    }
    dir = dirname(dir);
  }
  throw new Error('Cannot find the knockwatch package folder (filters/ and package.json) above its modules.');
}

export function builtinFilterPath(name: string): string {
  return join(packageRoot(), 'filters', `${name}.conf`);
}

export function demoConfigPath(): string {
  return join(packageRoot(), 'logs-samples', 'knockwatch.ini');
}
