import type { LogPosition } from './follow-file.js';

// kmsg resumes after record `seq` of the boot `boot` (/proc/sys/kernel/random/boot_id):
// sequence numbers start again at each boot.
export interface KmsgPosition {
  kind: 'kmsg';
  boot: string;
  seq: number;
}

// The journal resumes after the entry with this __CURSOR.
export interface JournalPosition {
  kind: 'journal';
  cursor: string;
  // journal_directory when it was set: a cursor means nothing in another journal.
  directory?: string;
}

// Where a source stands, kept in the state file (`logs`, keyed by the source's name) to
// resume after a restart. A file's position has no `kind` (state files from before kmsg
// and the journal).
export type SourcePosition = LogPosition | KmsgPosition | JournalPosition;

// Something that hands out log lines as they are written: a followed file today, kmsg and
// the journal next. Lines go to the callback the source was made with; which parser reads
// them is the daemon's choice, not the source's.
export interface LineSource {
  // What is read (a file path); also the key of its position in the state file.
  readonly name: string;
  readonly kind: string;
  // Starts reading at `resume` when it still describes the source, else at its end; reads
  // nothing older.
  start(resume: SourcePosition | undefined): void;
  stop(): void;
  // Reads what is there now (watch events and timers only call this sooner).
  check(): void;
  // Where reading would resume, to be saved; undefined before anything was opened.
  position(): SourcePosition | undefined;
  // What is known to wait unread (bytes for a file), when the source can tell.
  lag(): number | undefined;
  // Host time of the last line handed out.
  readonly lastLineAt: number | undefined;
}

// Whether two positions are the same place (a file: same inode and offset).
export function samePosition(a: SourcePosition, b: SourcePosition): boolean {
  if ('kind' in a || 'kind' in b) return JSON.stringify(a) === JSON.stringify(b);
  return a.offset === b.offset && a.ino === b.ino;
}
