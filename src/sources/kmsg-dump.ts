import { isKernelRecord, kmsgLine, parseKmsgRecord } from './kmsg-record.js';

interface DumpRecord { facility: number; usec: number; message: string }

// `<4>[   12.345678] message`
const DMESG_RAW = /^<(\d{1,4})>\[ *(\d{1,12})\.(\d{6})\] ?(.*)$/s;

// One line of a saved kernel log: `dmesg --raw` output or a copy of /dev/kmsg
// (`4,123,456789,-;message`; its ` KEY=value` dictionary lines are not records).
// Beware: util-linux 2.38's `dmesg --raw` prints `<facility|level>` with the facility
// unshifted, so a record written by user space with `<4>` shows as `<5>`, like a kernel
// record of level 5; `dmesg --syslog --raw` and /dev/kmsg copies keep the true PRI.
function parseDumpLine(line: string): DumpRecord | undefined {
  const raw = DMESG_RAW.exec(line);
  if (raw === null) return parseKmsgRecord(line);
  const pri = Number(raw[1]);
  return { facility: pri >> 3, usec: Number(raw[2]) * 1_000_000 + Number(raw[3]), message: raw[4]! };
}

// Whether a file whose first lines these are is a kernel log dump rather than a syslog file.
export function detectKmsgDump(firstLines: readonly string[]): boolean {
  const first = firstLines.find((line) => line.trim() !== '');
  return first !== undefined && parseDumpLine(first) !== undefined;
}

// The synthetic lines a live kmsg source would have handed out for these dump lines (kernel
// records only). Record times are monotonic; `lastRecordWallTime` (ms, e.g. the file's
// mtime) is the wall time of the last record, and the others are placed before it.
export function kmsgDumpToLines(lines: readonly string[], lastRecordWallTime: number): string[] {
  const records: DumpRecord[] = [];
  for (const line of lines) {
    const record = parseDumpLine(line);
    if (record !== undefined) records.push(record);
  }
  const last = records.at(-1);
  if (last === undefined) return [];
  const wallMicros = lastRecordWallTime * 1000;
  return records.filter(isKernelRecord).map((record) => kmsgLine(wallMicros - (last.usec - record.usec), record.message));
}
