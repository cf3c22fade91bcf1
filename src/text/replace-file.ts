import { closeSync, constants, fchmodSync, fchownSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface FileAccess {
  mode: number;
  // Given: the new file gets this owner (the old file's, when it replaces one).
  owner?: { uid: number; gid: number } | undefined;
}

// Replaces `path` with `content`: written whole to a new file beside it, flushed, and renamed
// over it, so a crash leaves the old file or the new one, never half of one. The new file is
// created afresh (a file or symbolic link already at its name is removed, never written
// through) with `access`. On failure the new file is removed and `path` is as it was.
export function replaceFile(path: string, content: string | Uint8Array, access: FileAccess): void {
  const temporary = join(dirname(path), `.${basename(path)}.knockwatch-${process.pid}`);
  removeIfThere(temporary);
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, access.mode);
  try {
    try {
      if (access.owner !== undefined) fchownSync(fd, access.owner.uid, access.owner.gid);
      // After the owner: the umask must not change the mode, and chown may clear set-id bits.
      fchmodSync(fd, access.mode);
      writeFileSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    removeIfThere(temporary);
    throw error;
  }
  try {
    const dir = openSync(dirname(path), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // Not every file system lets a directory be synced; the rename is still atomic.
  }
}

function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
