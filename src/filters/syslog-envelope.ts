// The parts every syslog line shares, split without a regex: this runs on every line read.
export interface SyslogEnvelope {
  stamp: string;
  host: string;
  tag: string;
  pid: number | undefined;
  message: string;
}

const MAX_TAG_LENGTH = 64;

// Reads `STAMP HOST TAG[PID]: MESSAGE` where STAMP is either traditional syslog
// (`Jan  7 09:58:47`, always 15 characters) or an ISO form without spaces (RFC 3339 as
// rsyslog writes it, journald's short-iso and short-iso-precise).
export function parseSyslogEnvelope(line: string): SyslogEnvelope | undefined {
  let stampEnd: number;
  const first = line.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    stampEnd = line.indexOf(' ');
    if (stampEnd < 19 || stampEnd > 40) return undefined;
  } else if (first >= 65 && first <= 90) {
    stampEnd = 15;
    if (line.charCodeAt(3) !== 32 || line.charCodeAt(15) !== 32) return undefined;
  } else {
    return undefined;
  }
  const hostStart = stampEnd + 1;
  const hostEnd = line.indexOf(' ', hostStart);
  if (hostEnd <= hostStart) return undefined;
  const tagStart = hostEnd + 1;
  const colon = line.indexOf(': ', tagStart);
  if (colon <= tagStart || colon - tagStart > MAX_TAG_LENGTH) return undefined;
  let tagEnd = colon;
  let pid: number | undefined;
  if (line.charCodeAt(colon - 1) === 93) {
    // TAG[PID]: the pid is digits only
    const open = line.lastIndexOf('[', colon);
    if (open <= tagStart || colon - open > 12) return undefined;
    pid = 0;
    for (let i = open + 1; i < colon - 1; i++) {
      const c = line.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
      pid = pid * 10 + (c - 48);
    }
    if (open + 1 === colon - 1) return undefined;
    tagEnd = open;
  }
  const tag = line.slice(tagStart, tagEnd);
  if (tag.includes(' ') || tag.includes('[')) return undefined;
  return {
    stamp: line.slice(0, stampEnd),
    host: line.slice(hostStart, hostEnd),
    tag,
    pid,
    message: line.slice(colon + 2),
  };
}
