import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { KnockRefusal } from './knock-steps.js';

// Reads a rotating door's secret file, refusing one that anybody but its owner (the user
// knocking) could read or change. The content is never part of a message.
export function readSecretFile(path: string, uid: number | undefined): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new KnockRefusal(`secret file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    // The checks are made on the file that was opened, not on a path that could change.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new KnockRefusal(`secret file ${path}: expected a regular file`);
    if (uid !== undefined && stat.uid !== uid) throw new KnockRefusal(`secret file ${path}: expected a file of your own (uid ${uid}), found the owner uid ${stat.uid}`);
    if ((stat.mode & 0o077) !== 0) {
      throw new KnockRefusal(`secret file ${path}: expected a file only you can read (chmod 600), found mode ${(stat.mode & 0o777).toString(8).padStart(3, '0')}`);
    }
    const secret = readFileSync(fd);
    if (secret.length === 0) throw new KnockRefusal(`secret file ${path}: expected a secret, found an empty file`);
    return secret;
  } finally {
    closeSync(fd);
  }
}
