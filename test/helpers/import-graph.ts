import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { packageRoot } from '../../src/runtime/package-paths.js';

const root = packageRoot();

// The .ts files under a folder of the repository, as repository-relative paths.
export function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name))
    .sort();
}

// The repository files a source file imports (type-only imports and re-exports included:
// they tie modules together as much as value imports do). Packages are left out.
export function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return info.importedFiles
    .map((imported) => imported.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => relative(root, resolve(root, dirname(file), name.replace(/\.js$/, '.ts'))));
}

// Every file reachable from `start` through imports, with the import that reached it first.
export function reachable(start: readonly string[]): Map<string, string | undefined> {
  const seen = new Map<string, string | undefined>(start.map((file) => [file, undefined]));
  const queue = [...start];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const next of importsOf(file)) {
      if (seen.has(next)) continue;
      seen.set(next, file);
      queue.push(next);
    }
  }
  return seen;
}

// The import chain from a start file to `file`, as reachable() found it.
export function chainTo(found: Map<string, string | undefined>, file: string): string[] {
  const chain = [file];
  for (let at = found.get(file); at !== undefined; at = found.get(at)) chain.unshift(at);
  return chain;
}

// Import cycles among the files under `folder`, each as the list of files around it.
export function importCycles(folder: string): string[][] {
  const start = sourceFiles(folder);
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of importsOf(file).filter((imported) => imported.startsWith(`${folder}/`))) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of start) if (!state.has(file)) visit(file);
  return cycles;
}
