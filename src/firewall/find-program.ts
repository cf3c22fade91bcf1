import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

// The executable's path: an absolute name as it is, any other looked up on PATH (and in
// /usr/sbin and /sbin, where firewall tools live but a service's PATH may not reach).
export function findProgram(name: string, path = process.env.PATH ?? ''): string | undefined {
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined;
  if (name.includes('/')) return undefined;
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin']) {
    if (dir === '') continue;
    if (isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
