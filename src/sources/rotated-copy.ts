import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface RotatedCopy {
  name: string;
  fd: number;
  // Bytes at the time it was found; a copy does not grow.
  size: number;
}

// logrotate's names for the newest rotation: `.1`, or dateext's `-%Y%m%d` (with `%H`, `%M`,
// `%S` or a `-%s` added). A compressed copy (`.1.gz`) never fits.
const DATEEXT = /^-\d{8}(?:\d{2}){0,3}(?:-\d+)?$/;
// A directory may keep many dated rotations; the copy is among the most recently modified.
const MAX_CANDIDATES = 8;

// The copy copytruncate made of the log at `path` before it cut it to nothing: a regular file
// next to it under a rotation's name, not the log itself, holding at least the `readTo` bytes
// already read, and beginning as the log did. Open, when exactly one fits; none or several
// give undefined.
export function findRotatedCopy(path: string, log: { dev: number; ino: number }, readTo: number, beginsAsLog: (fd: number) => boolean): RotatedCopy | undefined {
  const dir = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return undefined;
  }
  const candidates = entries
    .filter((entry) => entry === `${name}.1` || (entry.startsWith(name) && DATEEXT.test(entry.slice(name.length))))
    // Regular files (checked again on the file opened: the name may point elsewhere by then).
    .flatMap((entry) => {
      try {
        const stat = lstatSync(join(dir, entry));
        return stat.isFile() ? [{ entry, modified: stat.mtimeMs }] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => b.modified - a.modified)
    .slice(0, MAX_CANDIDATES);
  let found: RotatedCopy | undefined;
  for (const { entry } of candidates) {
    const copy = openCopy(join(dir, entry), log, readTo, beginsAsLog);
    if (copy === undefined) continue;
    if (found !== undefined) {
      closeSync(found.fd);
      closeSync(copy.fd);
      return undefined;
    }
    found = copy;
  }
  return found;
}

function openCopy(file: string, log: { dev: number; ino: number }, readTo: number, beginsAsLog: (fd: number) => boolean): RotatedCopy | undefined {
  let fd: number;
  try {
    // Never through a link, never waiting on a FIFO put in its place since it was listed.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() && (stat.dev !== log.dev || stat.ino !== log.ino) && stat.size >= readTo && beginsAsLog(fd)) return { name: basename(file), fd, size: stat.size };
  } catch {
    // Unreadable: not a copy to read from.
  }
  closeSync(fd);
  return undefined;
}
