import { MAX_LINE_LENGTH } from './read-lines.js';

// Which journal entries may become a line: kernel records (knocks) or sshd's (auth).
export type JournalLines = 'knocks' | 'auth';

const SSHD_UNITS = new Set(['ssh.service', 'sshd.service']);
const SSHD_NAMES = new Set(['sshd', 'sshd-session']);
const SSHD_TRANSPORTS = new Set(['syslog', 'journal', 'stdout']);
// 16 digits of µs reach the year 2286; more would not fit a double exactly.
const MICROSECONDS = /^\d{1,16}$/;
const PID = /^[1-9]\d{0,9}$/;
// Tag and host are single syslog tokens: printable ASCII, no space, no brackets or colon.
const TOKEN = /^[!-9;-Z\\^-~]{1,64}$/;
const HOST = /^[!-~]{1,253}$/;
// C0 controls and DEL become a space, so one entry is always one line.
const CONTROL = /[\x00-\x1f\x7f]/g;

// Turns one parsed `journalctl -o json` entry into the syslog-shaped line the filters read,
// or undefined when the entry is not one `lines` may use or is malformed. Only fields that
// journald sets itself (leading underscore: a client cannot send them) decide trust:
// - knocks: `_TRANSPORT=kernel` and `SYSLOG_FACILITY=0`; journald gives a record written to
//   /dev/kmsg from user space `_TRANSPORT=kernel` too, with facility 1 and whatever
//   identifier its text claims (`kernel:`), so the facility is what tells them apart;
// - auth: sshd's unit or identifier, a syslog/journal/stdout transport, and a sender that is
//   sshd running as root (`_COMM` sshd or sshd-session, `_UID=0`): `logger -t sshd` gives
//   `_COMM=logger`, and a renamed copy of logger (`_COMM=sshd`) still runs as its user.
export function journalEntryToLine(entry: unknown, lines: JournalLines): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const fields = entry as Record<string, unknown>;
  const transport = fields._TRANSPORT;
  let tag: string;
  let pid: string | undefined;
  if (lines === 'knocks') {
    if (transport !== 'kernel' || fields.SYSLOG_FACILITY !== '0') return undefined;
    tag = 'kernel';
  } else {
    if (typeof transport !== 'string' || !SSHD_TRANSPORTS.has(transport)) return undefined;
    const identifier = fields.SYSLOG_IDENTIFIER;
    const unit = fields._SYSTEMD_UNIT;
    const fromSshd = (typeof unit === 'string' && SSHD_UNITS.has(unit)) || (typeof identifier === 'string' && SSHD_NAMES.has(identifier));
    const comm = fields._COMM;
    if (!fromSshd || typeof comm !== 'string' || !SSHD_NAMES.has(comm) || fields._UID !== '0') return undefined;
    const name = identifier ?? comm;
    if (typeof name !== 'string' || !TOKEN.test(name)) return undefined;
    tag = name;
    pid = pidOf(fields._PID) ?? pidOf(fields.SYSLOG_PID);
  }
  const host = fields._HOSTNAME;
  const stamp = stampOf(fields.__REALTIME_TIMESTAMP);
  const message = messageOf(fields.MESSAGE);
  if (typeof host !== 'string' || !HOST.test(host) || stamp === undefined || message === undefined) return undefined;
  return `${stamp} ${host} ${tag}${pid === undefined ? '' : `[${pid}]`}: ${message.replace(CONTROL, ' ')}`;
}

function pidOf(value: unknown): string | undefined {
  return typeof value === 'string' && PID.test(value) ? value : undefined;
}

// µs since the epoch as `2026-11-22T09:00:00.123456+00:00`.
function stampOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !MICROSECONDS.test(value)) return undefined;
  const micros = Number(value);
  const seconds = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}+00:00`;
}

// journalctl prints MESSAGE as a string, or as an array of bytes when it is not valid UTF-8
// or holds control characters.
function messageOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length <= MAX_LINE_LENGTH ? value : undefined;
  if (!Array.isArray(value) || value.length > MAX_LINE_LENGTH) return undefined;
  const bytes = Buffer.alloc(value.length);
  for (let i = 0; i < value.length; i++) {
    const byte: unknown = value[i];
    if (typeof byte !== 'number' || !Number.isInteger(byte) || byte < 0 || byte > 255) return undefined;
    bytes[i] = byte;
  }
  return bytes.toString('utf8');
}
