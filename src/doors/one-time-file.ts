import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseKnockSteps } from '../config/parse-values.js';
import type { DoorStep } from '../config/types.js';
import { replaceFile } from '../text/replace-file.js';

// Marks a used sequence in a one_time_sequences file as knockd does: the first character of
// its line becomes '#' (knockd overwrites it in place, so "7000,8000" reads "#000,8000").
// The line is found again by its content, comparing every step (knockd compares half of
// them), so lines edited since the file was read are no problem. The file is replaced
// whole (replaceFile) with the same mode and owner: a crash leaves the old file or the new
// one. Throws when the sequence is in no unused line or the file cannot be written.
export function markUsedLine(given: string, sequence: readonly DoorStep[]): void {
  // A file reached through a symbolic link is marked where it is, as knockd marks it: the
  // link stays, and the file it points to never keeps a used line unmarked.
  const file = realpathSync(given);
  const text = readFileSync(file);
  const offset = findLine(text, sequence);
  if (offset === undefined) throw new Error(`${file}: no unused line with the sequence any more`);
  const marked = Buffer.from(text);
  marked[offset] = 0x23;
  const { mode, uid, gid } = statSync(file);
  replaceFile(file, marked, { mode: mode & 0o7777, owner: { uid, gid } });
}

// Why markUsedLine could not mark a line of `given`, or undefined when it can: the file is
// replaced, so its directory must be writable (systemd's ProtectSystem=strict leaves only
// ReadWritePaths so). knockd, too, refuses to start on a file it cannot write.
export function markProblem(given: string): string | undefined {
  let file: string;
  try {
    file = realpathSync(given);
    if (!statSync(file).isFile()) return 'not a regular file';
  } catch (error) {
    return `cannot be read (${codeOf(error)})`;
  }
  try {
    accessSync(dirname(file), constants.W_OK);
    return undefined;
  } catch (error) {
    return `its directory ${dirname(file)} cannot be written (${codeOf(error)})`;
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

// The byte offset of the first unused line holding `sequence`.
function findLine(text: Buffer, sequence: readonly DoorStep[]): number | undefined {
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf(0x0a, start);
    const end = newline === -1 ? text.length : newline;
    const trimmed = text.subarray(start, end).toString('utf8').trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) {
      const parsed = parseKnockSteps(trimmed);
      if (parsed.ok && sameSteps(parsed.value, sequence)) return start;
    }
    start = end + 1;
  }
  return undefined;
}

function sameSteps(a: readonly DoorStep[], b: readonly DoorStep[]): boolean {
  return a.length === b.length && a.every((step, index) => step.port === b[index]?.port && step.proto === b[index]?.proto);
}
