import { TcpFlag, type Knock } from './events.js';
import { fullIPv6At } from './kernel-address.js';
import type { SyslogTimeParser } from './syslog-time.js';

// The IP header fields the scanner's shape reads as numbers, with the most digits it allows:
// their values vary from packet to packet; the other fields are texts a template repeats.
const NUMBER_FIELDS: ReadonlyMap<string, number> = new Map([['TTL', 3], ['ID', 5], ['TC', 3], ['HOPLIMIT', 3], ['FLOWLBL', 7]]);
const MAX_TEMPLATES = 8;
const SPACE = 32;

// The parts of the scanner's shape a template does not repeat.
// A dotted quad as isDottedQuad reads it: octets 0-255 without leading zeros (the scanner's
// shape allows more, which the scanner then refuses).
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ADDRESS4 = `${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}`;
const ADDRESS6 = String.raw`[0-9a-fA-F]{4}(?::[0-9a-fA-F]{4}){7}`;
const TRANSPORT = String.raw`(?:TCP SPT=\d{1,5} DPT=\d{1,5} WINDOW=\d{1,5} RES=0x[0-9a-f]{2} (?:(?:CWR|ECE|URG|ACK|PSH|RST|SYN|FIN) ){0,8}URGP=\d{1,5}|UDP SPT=\d{1,5} DPT=\d{1,5} LEN=\d{1,5}) *$`;

// Where the scanner found the parts of a line it read as an event.
export interface ScannedSpans {
  stampEnd: number;
  messageStart: number;
  prefixStart: number;
  srcStart: number;
  srcEnd: number;
  lenStart: number;
  // The space before `PROTO=`.
  protoKey: number;
}

// A line the scanner read in full, as the texts that repeat from one packet to the next (the
// envelope after the stamp, the prefix, interfaces, MACs, the host's own address, TOS and
// fragment flags) and the shapes of the values that do not (time stamps, the source, the
// numbers, the transport header). A line with the same texts and values of those shapes is
// one the scanner reads the same way: the same envelope, prefix, shape and first ` DPT=`.
// One sticky regex checks all of it (Irregexp reads a line several times faster than
// per-character JavaScript or substring comparisons); the source, the ports, the flags and
// the time are then read where the texts put them.
interface Template {
  // The whole line, from the stamp's shape to the transport header.
  line: RegExp;
  stampEnd: number;
  // Where the source address starts: every text before it has a fixed length.
  srcStart: number;
  ipv6: boolean;
  prefix: string;
  dst: string;
  iface: string;
}

export interface KnockTemplates {
  // The event (a fresh object) of a line of a known template, undefined for any other line.
  // `dptKey` is where the line's first ` DPT=` is (its D), as the pre-filter found it.
  read(line: string, dptKey: number): Knock | undefined;
  // Remembers the line the scanner just read as `event`.
  learn(line: string, spans: ScannedSpans, event: Knock): void;
}

export function createKnockTemplates(parseTime: SyslogTimeParser): KnockTemplates {
  const templates: Template[] = [];

  const readWith = (template: Template, line: string, dptKey: number): Knock | undefined => {
    template.line.lastIndex = 0;
    if (!template.line.test(line)) return undefined;
    // The regex has read the line: the source is where the texts' lengths put it, and the
    // template's texts hold no ` DPT=`, so the first in the line is the transport header's.
    const srcStart = template.srcStart;
    let src: string | undefined;
    if (template.ipv6) {
      src = fullIPv6At(line, srcStart);
      if (src === undefined) return undefined;
    } else {
      src = line.slice(srcStart, line.indexOf(' ', srcStart));
    }
    let at = dptKey + 4;
    let dport = 0;
    for (let c = line.charCodeAt(at); c !== SPACE; c = line.charCodeAt(++at)) dport = dport * 10 + (c - 48);
    // The source port's digits end at ` DPT=` and start after `=`.
    let sptStart = dptKey - 1;
    let spt = 0;
    for (let scale = 1, c = line.charCodeAt(sptStart - 1); c !== 61; c = line.charCodeAt(--sptStart - 1), scale *= 10) spt += (c - 48) * scale;
    if (spt > 65535 || dport > 65535) return undefined;
    // `TCP SPT=` or `UDP SPT=`
    const tcp = line.charCodeAt(sptStart - 8) === 84;
    // ` WINDOW=` digits ` RES=0x` two digits and a space: the flag words.
    const flags = tcp ? flagBits(line, skipDigits(line, at + 8) + 10) : 0;
    const time = parseTime.atStart(line, template.stampEnd);
    if (time === undefined) return undefined;
    return { type: 'knock', time, prefix: template.prefix, src, dst: template.dst, proto: tcp ? 'tcp' : 'udp', dport, spt, flags, iface: template.iface };
  };

  return {
    read(line, dptKey) {
      for (let i = 0; i < templates.length; i++) {
        const template = templates[i] as Template;
        // A full IPv6 source has its first colon fifth, a dotted quad none: the other
        // family's template is passed over without its regex.
        if ((line.charCodeAt(template.srcStart + 4) === 58) !== template.ipv6) continue;
        const outcome = readWith(template, line, dptKey);
        if (outcome === undefined) continue;
        // A template that answers moves up a place: the most common ones are tried first.
        if (i > 0) {
          templates[i] = templates[i - 1] as Template;
          templates[i - 1] = template;
        }
        return outcome;
      }
      return undefined;
    },
    learn(line, spans, event) {
      const template = templateOf(line, spans, event);
      if (template === undefined) return;
      templates.unshift(template);
      if (templates.length > MAX_TEMPLATES) templates.pop();
    },
  };
}

function templateOf(line: string, spans: ScannedSpans, event: Knock): Template | undefined {
  // A template's texts must not hold the line's first ` DPT=`: the pre-filter's port is then
  // the shape's for every line of the template.
  if (line.indexOf(' DPT=') !== line.indexOf(' DPT=', spans.protoKey)) return undefined;
  const ipv6 = spans.srcEnd - spans.srcStart === 39;
  const stampEnd = spans.stampEnd;
  // The stamp as the envelope reader finds its end: an ISO stamp has no space; a traditional
  // one has its day in one or two characters (atStart reads the rest).
  // (Spelt out: Irregexp runs `[^ ][^ ]...` faster than `[^ ]{31}`.)
  let pattern = line.charCodeAt(0) >= 65
    ? `[A-Z][^][^] [^]${stampEnd === 14 ? ' ' : '[^ ]'}${'[^]'.repeat(stampEnd - 6)}`
    : `\\d${'[^ ]'.repeat(stampEnd - 1)}`;
  pattern += escape(line.slice(stampEnd, spans.messageStart));
  // The kernel stamp with the template's width (the first `]` ends it; it grows a digit every
  // 10^n seconds of uptime).
  const kernelStamp = spans.prefixStart - spans.messageStart;
  if (kernelStamp > 0) pattern += String.raw`(?=\[ *\d{1,10}\.\d{1,9}\] )\[[ \d.]{${kernelStamp - 3}}\] `;
  pattern += escape(line.slice(spans.prefixStart, spans.srcStart)) + (ipv6 ? ADDRESS6 : ADDRESS4)
    + escape(line.slice(spans.srcEnd, spans.lenStart)) + String.raw`\d{1,5}`;
  // The IP header's tokens up to PROTO= (` KEY=VALUE`, or a word such as DF, whose `KEY`
  // would hold a space): numbers by their shape, the rest as they are.
  const lenEnd = line.indexOf(' ', spans.lenStart);
  let textStart = lenEnd;
  for (let at = lenEnd; at < spans.protoKey;) {
    const next = line.indexOf(' ', at + 1);
    const equals = line.indexOf('=', at + 1);
    const max = NUMBER_FIELDS.get(line.slice(at + 1, equals));
    if (max !== undefined) {
      pattern += `${escape(line.slice(textStart, equals + 1))}\\d{1,${max}}`;
      textStart = next;
    }
    at = next;
  }
  pattern += escape(line.slice(textStart, spans.protoKey + 7)) + TRANSPORT;
  return {
    line: new RegExp(pattern, 'y'),
    stampEnd,
    srcStart: spans.srcStart,
    ipv6,
    prefix: event.prefix,
    dst: event.dst,
    iface: event.iface,
  };
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

// The end of the digits at `at`.
function skipDigits(line: string, at: number): number {
  let end = at;
  for (let c = line.charCodeAt(end); c >= 48 && c <= 57; c = line.charCodeAt(++end));
  return end;
}

// The flag words from `at` up to URGP= (the scanner's shape or a template's regex has checked
// them) as TcpFlag bits: their first letters (C, E, U, A, P, R, S, F) differ, and CWR and ECE
// have no bit.
export function flagBits(line: string, at: number): number {
  let flags = 0;
  for (let p = at; line.charCodeAt(p + 3) === SPACE; p += 4) {
    switch (line.charCodeAt(p)) {
      case 85: flags |= TcpFlag.URG; break;
      case 65: flags |= TcpFlag.ACK; break;
      case 80: flags |= TcpFlag.PSH; break;
      case 82: flags |= TcpFlag.RST; break;
      case 83: flags |= TcpFlag.SYN; break;
      case 70: flags |= TcpFlag.FIN; break;
    }
  }
  return flags;
}
