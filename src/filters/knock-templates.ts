import type { Knock } from './events.js';
import { fullIPv6At } from './kernel-address.js';
import { ADDRESS6, flagBits, IP4_FIELDS, IP6_FIELDS, TRANSPORT } from './netfilter-shape.js';
import type { SyslogTimeParser } from './syslog-time.js';
import { escapeRegExp } from '../text/regex-text.js';

const MAX_TEMPLATES = 8;
// Scanner reads between two new templates (the first is made at once): a sender can vary its
// MAC on a LAN, and each new template costs a regex compilation.
const LEARN_EVERY = 256;
const SPACE = 32;

// A dotted quad as isDottedQuad reads it: octets 0-255 without leading zeros (the scanner's
// shape allows more, which the scanner then refuses).
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const QUAD = `${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}`;

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
// envelope after the stamp, the prefix, interfaces, MACs, the host's own address) and the
// shapes of what the packet decides (time stamps, the source, the rest of the IP header, the
// transport header). A line with the same texts and values of those shapes is
// one the scanner reads the same way: the same envelope, prefix, shape and first ` DPT=`.
// One sticky regex checks all of it (Irregexp reads a line several times faster than
// per-character JavaScript or substring comparisons); the source, the ports, the flags and
// the time are then read where the texts put them.
//
// The pieces, apart from the regex: the replay lane's scanner (replay-lane.ts) reads the same
// lines from the log's bytes with them.
export interface TemplateSpec {
  // The stamp is ISO 8601 (`2026-11-22T01:43:16.945087+00:00`), `stampEnd` characters.
  iso: boolean;
  stampEnd: number;
  // From the stamp's end to the message (` gate kernel: `).
  envelope: string;
  // The kernel stamp's width with its space, 0 without one.
  kernelStamp: number;
  // Where the source address starts: every text before it has a fixed length.
  srcStart: number;
  // From the prefix to the source address (`KNOCK IN=eth0 OUT= MAC=... SRC=`).
  head: string;
  ipv6: boolean;
  // From the source's end to LEN='s digits (` DST=192.0.2.1 LEN=`).
  middle: string;
  prefix: string;
  dst: string;
  iface: string;
}

interface Template extends TemplateSpec {
  // The whole line, from the stamp's shape to the transport header.
  line: RegExp;
}

export interface KnockTemplates {
  // The templates now, most used first; `version` changes whenever one is learned.
  specs(): readonly TemplateSpec[];
  readonly version: number;
  // The event (a fresh object) of a line of a known template, undefined for any other line.
  // `dptKey` is where the line's first ` DPT=` is (its D), as the pre-filter found it.
  read(line: string, dptKey: number): Knock | undefined;
  // Remembers the line the scanner just read as `event`.
  learn(line: string, spans: ScannedSpans, event: Knock): void;
}

export function createKnockTemplates(parseTime: SyslogTimeParser): KnockTemplates {
  const templates: Template[] = [];
  let scannedSinceLearning = LEARN_EVERY;
  let version = 0;

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
    specs: () => templates,
    get version() {
      return version;
    },
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
      if (++scannedSinceLearning < LEARN_EVERY) return;
      const template = templateOf(line, spans, event);
      if (template === undefined) return;
      scannedSinceLearning = 0;
      version++;
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
  const iso = line.charCodeAt(0) < 65;
  let pattern = !iso
    ? `[A-Z][^][^] [^]${stampEnd === 14 ? ' ' : '[^ ]'}${'[^]'.repeat(stampEnd - 6)}`
    : `\\d${'[^ ]'.repeat(stampEnd - 1)}`;
  pattern += escapeRegExp(line.slice(stampEnd, spans.messageStart));
  // The kernel stamp with the template's width (the first `]` ends it; it grows a digit every
  // 10^n seconds of uptime).
  const kernelStamp = spans.prefixStart - spans.messageStart;
  if (kernelStamp > 0) pattern += String.raw`(?=\[ *\d{1,10}\.\d{1,9}\] )\[[ \d.]{${kernelStamp - 3}}\] `;
  pattern += escapeRegExp(line.slice(spans.prefixStart, spans.srcStart)) + (ipv6 ? ADDRESS6 : QUAD)
    + escapeRegExp(line.slice(spans.srcEnd, spans.lenStart)) + String.raw`\d{1,5}` + (ipv6 ? IP6_FIELDS : IP4_FIELDS) + ` PROTO=${TRANSPORT}`;
  return {
    line: new RegExp(pattern, 'y'),
    iso,
    stampEnd,
    // Copies: the line is a slice of its chunk's string, which a kept slice keeps whole.
    envelope: textCopy(line.slice(stampEnd, spans.messageStart)),
    kernelStamp: Math.max(kernelStamp, 0),
    srcStart: spans.srcStart,
    head: textCopy(line.slice(spans.prefixStart, spans.srcStart)),
    ipv6,
    middle: textCopy(line.slice(spans.srcEnd, spans.lenStart)),
    prefix: textCopy(event.prefix),
    dst: textCopy(event.dst),
    iface: textCopy(event.iface),
  };
}

function textCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}


// The end of the digits at `at`.
function skipDigits(line: string, at: number): number {
  let end = at;
  for (let c = line.charCodeAt(end); c >= 48 && c <= 57; c = line.charCodeAt(++end));
  return end;
}
