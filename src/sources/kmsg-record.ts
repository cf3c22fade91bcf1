// One kernel log record as /dev/kmsg hands it out (Documentation/ABI/testing/dev-kmsg).
export interface KmsgRecord {
  facility: number;
  level: number;
  seq: number;
  // Microseconds of the kernel's monotonic clock since boot.
  usec: number;
  message: string;
}

const DECIMAL = /^\d{1,16}$/;

// Reads `PRI,SEQ,TSUSEC,FLAGS[,...];MESSAGE`; the ` KEY=value` dictionary lines that may
// follow the first line are ignored. Undefined for anything else.
export function parseKmsgRecord(text: string): KmsgRecord | undefined {
  const lineEnd = text.indexOf('\n');
  const first = lineEnd < 0 ? text : text.slice(0, lineEnd);
  const semicolon = first.indexOf(';');
  if (semicolon < 0) return undefined;
  const fields = first.slice(0, semicolon).split(',');
  if (fields.length < 4) return undefined;
  const [pri, seq, usec] = fields.slice(0, 3).map((field) => (DECIMAL.test(field) ? Number(field) : NaN));
  if (!Number.isSafeInteger(pri) || !Number.isSafeInteger(seq) || !Number.isSafeInteger(usec)) return undefined;
  return { facility: pri! >> 3, level: pri! & 7, seq: seq!, usec: usec!, message: first.slice(semicolon + 1) };
}

// Only facility 0 is the kernel itself. A record written to /dev/kmsg from user space comes
// back with facility 1 (user) whatever it claims: `echo '<4>test' > /dev/kmsg` as root reads
// back as `12,SEQ,USEC,-;test` (observed on Linux 6.18), while netfilter LOG records read
// `4,SEQ,USEC,-;...`.
export function isKernelRecord(record: { facility: number }): boolean {
  return record.facility === 0;
}

// The syslog-shaped line the daemon's parsers read: `STAMP kmsg kernel: MESSAGE`, with the
// stamp in UTC to the microsecond and control characters blanked (the kernel escapes them
// as \xHH already; a dump file need not have).
export function kmsgLine(wallMicros: number, message: string): string {
  return `${formatMicrosStamp(wallMicros)} kmsg kernel: ${message.replace(/[\x00-\x1f\x7f]/g, ' ')}`;
}

// 2026-11-22T09:00:00.123456+00:00
function formatMicrosStamp(wallMicros: number): string {
  const whole = Math.floor(wallMicros);
  const millis = Math.floor(whole / 1000);
  const micros = whole - millis * 1000;
  return `${new Date(millis).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}+00:00`;
}
