import type { JournalLines } from './journal-entry.js';
import { isJournalJson, journalJsonLines } from './journal-export.js';
import { detectKmsgDump, kmsgDumpToLines } from './kmsg-dump.js';
import type { LineBatch } from './read-lines.js';

export type ReplayFormat = 'syslog' | 'journal' | 'kmsg';

// What a file to replay is, from its first non-empty line: a `journalctl -o json` export, a
// /dev/kmsg or `dmesg --raw` dump, or a syslog file.
export function detectFormat(lines: readonly string[]): ReplayFormat | undefined {
  const first = lines.find((line) => line.trim() !== '');
  if (first === undefined) return undefined;
  if (isJournalJson(first)) return 'journal';
  return detectKmsgDump([first]) ? 'kmsg' : 'syslog';
}

// The batches of one file as the lines the live kmsg or journal source would have handed
// out, so replay decides on them as the daemon does. A kmsg dump's times are monotonic:
// `lastRecordTime` is the wall time of its last record (the file's mtime), so a dump is
// read whole before anything goes on.
export async function* asLiveLines(batches: AsyncIterable<LineBatch>, role: JournalLines, lastRecordTime: () => number): AsyncGenerator<LineBatch> {
  let format: ReplayFormat | undefined;
  const dump: string[] = [];
  let last: LineBatch | undefined;
  for await (const batch of batches) {
    format ??= detectFormat(batch.lines);
    if (format === 'kmsg') {
      for (const line of batch.lines) dump.push(line);
      last = batch;
    } else if (format === 'journal') {
      yield { ...batch, lines: journalJsonLines(batch.lines, role) };
    } else {
      yield batch;
    }
  }
  if (last !== undefined) yield { ...last, lines: kmsgDumpToLines(dump, lastRecordTime()) };
}
