// The parts every syslog line shares, split without a regex: this runs on every line read.
export interface SyslogEnvelope {
  stamp: string;
  host: string;
  tag: string;
  pid: number | undefined;
  message: string;
}

// Where the parts of an envelope are in its line (end offsets exclusive): the fast path reads
// them in place instead of slicing each one out.
export interface EnvelopeSpans {
  stampEnd: number;
  hostStart: number;
  hostEnd: number;
  tagStart: number;
  tagEnd: number;
  pid: number | undefined;
  messageStart: number;
}

const MAX_TAG_LENGTH = 64;
const FACILITY_LEVEL = /^[a-z\d]{1,8}\.[a-z]{1,7}$/;

export function createEnvelopeSpans(): EnvelopeSpans {
  return { stampEnd: 0, hostStart: 0, hostEnd: 0, tagStart: 0, tagEnd: 0, pid: undefined, messageStart: 0 };
}

// Reads `STAMP HOST TAG[PID]: MESSAGE` where STAMP is either traditional syslog
// (`Jan  7 09:58:47`, with a fraction as journald's short-precise writes it) or an ISO form
// without spaces (RFC 3339 as rsyslog writes it, journald's short-iso and short-iso-precise).
export function parseSyslogEnvelope(line: string): SyslogEnvelope | undefined {
  const spans = createEnvelopeSpans();
  if (!locateSyslogEnvelope(line, spans)) return undefined;
  return {
    stamp: line.slice(0, spans.stampEnd),
    host: line.slice(spans.hostStart, spans.hostEnd),
    tag: line.slice(spans.tagStart, spans.tagEnd),
    pid: spans.pid,
    message: line.slice(spans.messageStart),
  };
}

// Fills `spans` for a syslog line; false when the line is not one.
export function locateSyslogEnvelope(line: string, spans: EnvelopeSpans): boolean {
  let stampEnd: number;
  const first = line.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    stampEnd = line.indexOf(' ');
    if (stampEnd < 19 || stampEnd > 40) return false;
  } else if (first >= 65 && first <= 90) {
    // `Jan  7 09:58:47`, or `Jan 7 09:58:47` as some senders write a one-digit day
    stampEnd = line.charCodeAt(5) === 32 ? 14 : 15;
    if (line.charCodeAt(3) !== 32) return false;
    // and a fraction of up to 9 digits: journalctl -o short-precise, syslog-ng's frac-digits()
    if (line.charCodeAt(stampEnd) === 46) stampEnd = fractionEnd(line, stampEnd + 1);
    if (line.charCodeAt(stampEnd) !== 32) return false;
  } else {
    return false;
  }
  const hostStart = stampEnd + 1;
  let hostEnd = line.indexOf(' ', hostStart);
  if (hostEnd <= hostStart) return false;
  let tagStart = hostEnd + 1;
  // No host (`STAMP TAG[PID]: MESSAGE`, as some syslog daemons write): a host never ends in a
  // colon, but for an IPv6 address, which has others before it, and socklog's `auth.info:`.
  if (line.charCodeAt(hostEnd - 1) === 58 && line.lastIndexOf(':', hostEnd - 2) < hostStart && !FACILITY_LEVEL.test(line.slice(hostStart, hostEnd - 1))) {
    tagStart = hostStart;
    hostEnd = hostStart;
  }
  const colon = line.indexOf(': ', tagStart);
  if (colon <= tagStart || colon - tagStart > MAX_TAG_LENGTH) return false;
  let tagEnd = colon;
  let pid: number | undefined;
  if (line.charCodeAt(colon - 1) === 93) {
    // TAG[PID]: the pid is digits only
    const open = line.lastIndexOf('[', colon);
    if (open <= tagStart || colon - open > 12) return false;
    pid = 0;
    for (let i = open + 1; i < colon - 1; i++) {
      const c = line.charCodeAt(i);
      if (c < 48 || c > 57) return false;
      pid = pid * 10 + (c - 48);
    }
    if (open + 1 === colon - 1) return false;
    tagEnd = open;
  }
  for (let i = tagStart; i < tagEnd; i++) {
    const c = line.charCodeAt(i);
    if (c === 32 && tagStart === hostEnd + 1 && FACILITY_LEVEL.test(line.slice(tagStart, i))) {
      // BusyBox's `HOST auth.info TAG[PID]:`: the facility and level come before the tag
      tagStart = i + 1;
    } else if (c === 32 || c === 91) {
      return false;
    }
  }
  spans.stampEnd = stampEnd;
  spans.hostStart = hostStart;
  spans.hostEnd = hostEnd;
  spans.tagStart = tagStart;
  spans.tagEnd = tagEnd;
  spans.pid = pid;
  // Solaris syslogd's message id before the message: `sshd[PID]: [ID 800047 auth.info] ...`.
  spans.messageStart = line.charCodeAt(colon + 2) === 91 ? afterMessageId(line, colon + 2) : colon + 2;
  return true;
}

// Where the message starts after a `[ID 800047 auth.info] ` at `start`, or `start` without one.
function afterMessageId(line: string, start: number): number {
  if (!line.startsWith('[ID ', start)) return start;
  let at = start + 4;
  while (at < start + 14 && line.charCodeAt(at) >= 48 && line.charCodeAt(at) <= 57) at++;
  if (at === start + 4 || line.charCodeAt(at) !== 32) return start;
  const close = line.indexOf('] ', at + 1);
  return close !== -1 && close - at <= 17 && FACILITY_LEVEL.test(line.slice(at + 1, close)) ? close + 2 : start;
}

// The end of the 1 to 9 digits at line[start...], or -1 for none or more.
export function fractionEnd(line: string, start: number): number {
  let end = start;
  // (NaN past the line's end)
  for (let c = line.charCodeAt(end); c >= 48 && c <= 57; c = line.charCodeAt(++end));
  return end === start || end - start > 9 ? -1 : end;
}
