import { accessSync, constants, statSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { loadFilterFile, type Filter } from '../filters/load-filter.js';
import { isValidTimeZone } from '../text/time-zone.js';
import { builtinFilterPath } from '../runtime/package-paths.js';
import { UsageError } from './usage-error.js';
import type { CliValues } from './values.js';

export const DEFAULT_CONFIG = '/etc/knockwatch/knockwatch.ini';

// Every input file must be there and readable before anything is printed.
export function checkInputFiles(files: readonly string[]): number {
  if (files.length === 0) throw new UsageError('no log file given (a path, a .gz file, or - for standard input)');
  let total = 0;
  for (const file of files) {
    if (file === '-') continue;
    let size: number;
    try {
      const stat = statSync(file);
      if (stat.isDirectory()) throw new UsageError(`${file}: is a directory, expected a log file`);
      size = stat.size;
      accessSync(file, constants.R_OK);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`);
    }
    total += size;
  }
  return total;
}

export function resolveTimeZone(values: CliValues, config: Config | undefined): string | undefined {
  if (values.timezone !== undefined) {
    if (!isValidTimeZone(values.timezone)) throw new UsageError(`--timezone: expected an IANA zone such as UTC or Europe/Berlin, found "${values.timezone}"`);
    return values.timezone;
  }
  return config?.options.timeZone;
}

export function loadFilter(name: string): Filter {
  const path = name.endsWith('.conf') ? name : builtinFilterPath(name);
  try {
    return loadFilterFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(`--filter: no filter "${name}" (netfilter, sshd, or a path to a .conf file)`);
    }
    throw error;
  }
}
