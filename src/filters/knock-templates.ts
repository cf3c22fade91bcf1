import { TcpFlag, type Knock } from './events.js';
import { fullIPv6At } from './kernel-address.js';
import { dottedQuadValue } from '../net/address.js';
import type { SyslogTimeParser } from './syslog-time.js';

// What a template says of a line: an event, a port no door uses, or nothing (the scanner and
// the regexes decide).
export type TemplateOutcome = Knock | typeof OTHER_PORT | undefined;
export const OTHER_PORT = 0;

// The IP header fields the scanner's shape reads as numbers, with the most digits it allows:
// their values vary from packet to packet; the other fields are texts a template repeats.
const NUMBER_FIELDS: ReadonlyMap<string, number> = new Map([['TTL', 3], ['ID', 5], ['TC', 3], ['HOPLIMIT', 3], ['FLOWLBL', 7]]);
const MAX_TEMPLATES = 8;
const SPACE = 32;

// The parts of the scanner's shape a template does not repeat.
const ADDRESS4 = String.raw`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`;
const ADDRESS6 = String.raw`[0-9a-fA-F]{4}(?::[0-9a-fA-F]{4}){7}`;
const KERNEL_STAMP = String.raw`\[ *\d{1,10}\.\d{1,9}\] `;
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
  // ISO stamps: the stamp's length (no space in it); traditional ones: 14 or 15.
  stampEnd: number;
  traditional: boolean;
  // Everything after the stamp, from ` host kernel: ` to the line's end.
  rest: RegExp;
  // Characters from the stamp's end to the kernel stamp (or the prefix, without one).
  envelopeLength: number;
  kernelStamp: boolean;
  // From the prefix to the source address.
  headLength: number;
  ipv6: boolean;
  prefix: string;
  dst: string;
  iface: string;
}

export interface KnockTemplates {
  // The event (a fresh object) or OTHER_PORT for a line of a known template; undefined otherwise.
  read(line: string, ports: Uint8Array): TemplateOutcome;
  // Remembers the line the scanner just read as `event`.
  learn(line: string, spans: ScannedSpans, event: Knock): void;
}

export function createKnockTemplates(parseTime: SyslogTimeParser): KnockTemplates {
  const templates: Template[] = [];

  const readWith = (template: Template, line: string, ports: Uint8Array): TemplateOutcome => {
    const stampEnd = template.stampEnd;
    const first = line.charCodeAt(0);
    if (template.traditional) {
      if (first < 65 || first > 90 || line.charCodeAt(3) !== SPACE || (line.charCodeAt(5) === SPACE ? 14 : 15) !== stampEnd) return undefined;
    } else if (first < 48 || first > 57 || line.indexOf(' ') !== stampEnd) {
      return undefined;
    }
    template.rest.lastIndex = stampEnd;
    if (!template.rest.test(line)) return undefined;
    let at = stampEnd + template.envelopeLength;
    // The kernel stamp ends at its first `] ` (the regex read `[ *digits.digits] `).
    if (template.kernelStamp) at = line.indexOf('] ', at) + 2;
    const srcStart = at + template.headLength;
    const srcEnd = line.indexOf(' ', srcStart);
    let src: string | undefined;
    if (template.ipv6) {
      src = fullIPv6At(line, srcStart);
      if (src === undefined) return undefined;
    } else {
      if (dottedQuadValue(line, srcStart, srcEnd) === -1) return undefined;
      src = line.slice(srcStart, srcEnd);
    }
    // The template's texts hold no ` DPT=` and its values are digits: the first after the
    // source is the transport header's. Its digits end at a space, the SPT's start after `=`.
    const dptStart = line.indexOf(' DPT=', srcEnd) + 5;
    let dptEnd = dptStart;
    let dport = 0;
    for (let c = line.charCodeAt(dptEnd); c !== SPACE; c = line.charCodeAt(++dptEnd)) dport = dport * 10 + (c - 48);
    let sptStart = dptStart - 5;
    let spt = 0;
    for (let scale = 1, c = line.charCodeAt(sptStart - 1); c !== 61; c = line.charCodeAt(--sptStart - 1), scale *= 10) spt += (c - 48) * scale;
    if (spt > 65535 || dport > 65535) return undefined;
    if (ports[dport] === 0) return OTHER_PORT;
    // `TCP SPT=` or `UDP SPT=`
    const tcp = line.charCodeAt(sptStart - 8) === 84;
    const flags = tcp ? flagBits(line, line.indexOf(' RES=0x', dptEnd) + 10) : 0;
    const time = parseTime.atStart(line, stampEnd);
    if (time === undefined) return undefined;
    return { type: 'knock', time, prefix: template.prefix, src, dst: template.dst, proto: tcp ? 'tcp' : 'udp', dport, spt, flags, iface: template.iface };
  };

  return {
    read(line, ports) {
      for (let i = 0; i < templates.length; i++) {
        const outcome = readWith(templates[i] as Template, line, ports);
        if (outcome !== undefined) return outcome;
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
  const kernelStamp = spans.prefixStart !== spans.messageStart;
  let pattern = escape(line.slice(spans.stampEnd, spans.messageStart)) + (kernelStamp ? KERNEL_STAMP : '')
    + escape(line.slice(spans.prefixStart, spans.srcStart)) + (ipv6 ? ADDRESS6 : ADDRESS4)
    + escape(line.slice(spans.srcEnd, spans.lenStart)) + String.raw`\d{1,5}`;
  // The IP header's tokens up to PROTO= (` KEY=VALUE`, or a word such as DF): numbers by
  // their shape, the rest as they are.
  const lenEnd = line.indexOf(' ', spans.lenStart);
  let textStart = lenEnd;
  for (let at = lenEnd; at < spans.protoKey;) {
    const next = line.indexOf(' ', at + 1);
    const equals = line.indexOf('=', at + 1);
    const max = equals !== -1 && equals < next ? NUMBER_FIELDS.get(line.slice(at + 1, equals)) : undefined;
    if (max !== undefined) {
      pattern += `${escape(line.slice(textStart, equals + 1))}\\d{1,${max}}`;
      textStart = next;
    }
    at = next;
  }
  pattern += escape(line.slice(textStart, spans.protoKey + 7)) + TRANSPORT;
  return {
    stampEnd: spans.stampEnd,
    traditional: line.charCodeAt(0) >= 65,
    rest: new RegExp(pattern, 'y'),
    envelopeLength: spans.messageStart - spans.stampEnd,
    kernelStamp,
    headLength: spans.srcStart - spans.prefixStart,
    ipv6,
    prefix: event.prefix,
    dst: event.dst,
    iface: event.iface,
  };
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

// The flag words from `at` up to URGP= (the regex has read them) as TcpFlag bits: their first
// letters (C, E, U, A, P, R, S, F) differ, and CWR and ECE have no bit.
function flagBits(line: string, at: number): number {
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
