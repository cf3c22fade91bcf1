import { isAbsolute } from 'node:path';
import type { Parsed } from './parse-values.js';
import type { SectionReader } from './section-reader.js';
import type { SourceChoice } from './types.js';

type Role = 'kernel' | 'auth';

// The kinds each role may name: knocks never come without a kernel source.
const KINDS: Record<Role, readonly SourceChoice['kind'][]> = {
  kernel: ['auto', 'kmsg', 'journal', 'file'],
  auth: ['auto', 'journal', 'file', 'none'],
};

// `kernel_source` / `auth_source`, or the older `kern_log` / `auth_log` (a file); both
// given is a problem, neither is `auto`.
export function readSourceChoice(reader: SectionReader, role: Role): SourceChoice {
  const key = role === 'kernel' ? 'kernel_source' : 'auth_source';
  const oldKey = role === 'kernel' ? 'kern_log' : 'auth_log';
  const path = reader.text(oldKey);
  const choice = reader.parse(key, (text) => parseSourceChoice(text, KINDS[role]));
  if (path !== undefined && reader.has(key)) reader.problem(oldKey, `${oldKey} or ${key}, not both`, 'both');
  if (choice !== undefined) return choice;
  if (path !== undefined && path !== '') return { kind: 'file', path };
  if (path !== undefined) reader.problem(oldKey, 'the path of a log file', '');
  return { kind: 'auto' };
}

function parseSourceChoice(text: string, kinds: readonly SourceChoice['kind'][]): Parsed<SourceChoice> {
  const expected = kinds.map((kind) => (kind === 'file' ? 'file:PATH' : kind)).join(' | ');
  if (text.startsWith('file:')) {
    const path = text.slice('file:'.length).trim();
    return kinds.includes('file') && path !== '' ? { ok: true, value: { kind: 'file', path } } : { ok: false, expected, found: text };
  }
  const kind = kinds.find((candidate) => candidate === text.toLowerCase());
  return kind === undefined || kind === 'file' ? { ok: false, expected, found: text } : { ok: true, value: { kind } };
}

// `journal_directory`: a journal other than the system's (journalctl --directory), e.g. one
// a container or systemd-journal-remote writes. Absolute, since the daemon's working
// directory says nothing about where a journal is.
export function readJournalDirectory(reader: SectionReader): string | undefined {
  return reader.parse('journal_directory', parseJournalDirectory);
}

function parseJournalDirectory(text: string): Parsed<string> {
  return isAbsolute(text) ? { ok: true, value: text } : { ok: false, expected: 'an absolute path of a journal directory', found: text };
}
