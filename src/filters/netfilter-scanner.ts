import type { Knock } from './events.js';
import { normalizeAddressAt } from './kernel-address.js';
import { createKnockTemplates, type KnockTemplates } from './knock-templates.js';
import { ADDRESS4, ADDRESS6, flagBits, IP4_FIELDS, IP6_FIELDS, LINK, TRANSPORT } from './netfilter-shape.js';
import { createEnvelopeSpans, locateSyslogEnvelope } from './syslog-envelope.js';
import type { SyslogTimeParser } from './syslog-time.js';

// The outcomes the scanner is sure of (the parser's own constants are equal to these).
export type ScanOutcome = { status: 'event'; event: Knock } | { status: 'missed' } | { status: 'ignored' };

const MISSED: ScanOutcome = { status: 'missed' };
const IGNORED: ScanOutcome = { status: 'ignored' };

const KERNEL_STAMP = /\[ *\d{1,10}\.\d{1,9}\] /y;

// Everything from IN= to the end of a line of the shape the scanner reads (netfilter-shape.ts).
// Irregexp runs this far faster than per-character JavaScript.
const ADDRESS = `(?:${ADDRESS4}|${ADDRESS6})`;
const COMMON_SHAPE = `${LINK} SRC=${ADDRESS} DST=${ADDRESS} LEN=\\d{1,5}(?:${IP4_FIELDS}|${IP6_FIELDS}) PROTO=${TRANSPORT}`;

// A hand-written reader of the netfilter LOG lines knockwatch's own rules produce, for the
// built-in filters/netfilter.conf only: a kernel-tagged TCP or UDP packet with ports, IPv4 or
// IPv6, without the optional extras (options, sequence numbers, decoded MACs, bridge ports,
// UID, mark). For such a line it returns exactly what the filter's regex and buildKnock
// make of it; for a line it is not sure of (any other shape, anything invalid) it returns
// undefined and the regex decides. Tests run every sample and a mutated corpus both ways.
// `dptKey`, when the caller has searched for it, is where the line's first ` DPT=` is (or -1).
// An event outcome is one object the scanner fills anew for every event: a caller that keeps
// it past the next call copies it.
export interface NetfilterScanner {
  (line: string, dptKey?: number): ScanOutcome | undefined;
  // For a line of the same texts as one read before (see knock-templates.ts): its event, as
  // the scanner reads it; undefined for any other line. `dptKey` as for the scanner.
  known(line: string, dptKey: number): ScanOutcome | undefined;
  // The line templates learned so far (knock-templates.ts).
  readonly templates: Pick<KnockTemplates, 'specs' | 'version'>;
}

export function createNetfilterScanner(parseTime: SyslogTimeParser): NetfilterScanner {
  const spans = createEnvelopeSpans();
  const templates = createKnockTemplates(parseTime);
  let found: { status: 'event'; event: Knock } | undefined;
  const eventOutcome = (event: Knock): ScanOutcome => {
    if (found === undefined) found = { status: 'event', event };
    else found.event = event;
    return found;
  };
  const shape = new RegExp(COMMON_SHAPE, 'y');
  // Values most lines repeat (the prefix, the host's own address), kept with the text they
  // came from so that a line holding the same text reuses them.
  let prefixText = '';
  let prefix = '';
  let dstText = '';
  let dst = '';
  let iface = '';

  const scan = (line: string, dptKey = -1): ScanOutcome | undefined => {
    if (!locateSyslogEnvelope(line, spans)) return IGNORED;
    if (!sameText(line, spans.tagStart, spans.tagEnd, 'kernel') || spans.pid !== undefined) return IGNORED;
    const message = spans.messageStart;
    // Most kernel lines are no LOG line: without SRC= the filter misses them whatever they are.
    if (dptKey === -1 && line.indexOf('SRC=', message) === -1) return MISSED;
    // The kernel's `[ seconds]` stamp; a `[` that starts anything else is the regex's to read.
    let prefixStart = message;
    if (line.charCodeAt(prefixStart) === 91) {
      prefixStart = kernelStampEnd(line, prefixStart);
      if (prefixStart === -1) return unread(line, message);
    }
    const inAt = line.indexOf('IN=', prefixStart);
    if (inAt === -1 || inAt - prefixStart > 128) return unread(line, message);
    // The prefix of the last line read is known to hold no line terminator.
    const samePrefix = sameText(line, prefixStart, inAt, prefixText);
    for (let i = prefixStart; i < inAt && !samePrefix; i++) {
      const c = line.charCodeAt(i);
      if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return undefined;
    }
    shape.lastIndex = inAt;
    if (!shape.test(line)) return undefined;

    // The shape holds: every key below is where the first search finds it. No value before
    // a key holds a `=`, so each is searched for without its leading space (a search led by
    // a rarer character is faster) and the space is taken as found.
    // The first ` DPT=` after IN= is the one the shape read.
    const dptStart = (dptKey > inAt ? dptKey : line.indexOf('DPT=', inAt)) + 4;
    const protoKey = line.lastIndexOf('PROTO=', dptStart) - 1;
    const tcp = line.charCodeAt(protoKey + 7) === 84;
    const sptStart = protoKey + 15;
    const sptEnd = dptStart - 5;
    const dptEnd = line.indexOf(' ', dptStart);
    const spt = numberAt(line, sptStart, sptEnd);
    const dport = numberAt(line, dptStart, dptEnd);
    if (spt > 65535 || dport > 65535) return undefined;
    const outKey = line.indexOf('OUT=', inAt) - 1;
    const srcStart = line.indexOf('SRC=', outKey) + 4;
    const dstKey = line.indexOf('DST=', srcStart) - 1;
    const src = normalizeAddressAt(line, srcStart, dstKey);
    if (src === undefined) return undefined;
    const dstStart = dstKey + 5;
    const lenKey = line.indexOf('LEN=', dstStart) - 1;
    if (!sameText(line, dstStart, lenKey, dstText)) {
      const normalized = normalizeAddressAt(line, dstStart, lenKey);
      if (normalized === undefined) return undefined;
      dstText = line.slice(dstStart, lenKey);
      dst = normalized;
    }
    // The shape allows a dotted quad (at most 15 characters) or the 39 of the full IPv6 form.
    if ((dstKey - srcStart === 39) !== (lenKey - dstStart === 39)) return undefined;
    const flags = tcp ? flagBits(line, line.indexOf('RES=0x', dptEnd) + 9) : 0;
    const time = parseTime.atStart(line, spans.stampEnd);
    if (time === undefined) return undefined;
    if (!samePrefix) {
      prefixText = line.slice(prefixStart, inAt);
      prefix = prefixText.trim();
    }
    if (!sameText(line, inAt + 3, outKey, iface)) iface = line.slice(inAt + 3, outKey);
    const event: Knock = { type: 'knock', time, prefix, src, dst, proto: tcp ? 'tcp' : 'udp', dport, spt, flags, iface };
    templates.learn(line, { stampEnd: spans.stampEnd, messageStart: message, prefixStart, srcStart, srcEnd: dstKey, lenStart: lenKey + 5, protoKey }, event);
    return eventOutcome(event);
  };
  return Object.assign(scan, {
    templates,
    known(line: string, dptKey: number): ScanOutcome | undefined {
      const event = templates.read(line, dptKey);
      return event === undefined ? undefined : eventOutcome(event);
    },
  });
}

// A line not of the shape read here: without SRC= it is no LOG line (the filter's `contains`),
// otherwise the regexes decide.
function unread(line: string, message: number): ScanOutcome | undefined {
  return line.indexOf('SRC=', message) === -1 ? MISSED : undefined;
}

// line[start, end) is `text`. Compared as a substring: V8 compares two strings' characters
// in bulk, charCodeAt and startsWith one at a time.
function sameText(line: string, start: number, end: number, text: string): boolean {
  return end - start === text.length && line.substring(start, end) === text;
}

function numberAt(line: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (line.charCodeAt(i) - 48);
  return value;
}


// After `[ 1234.567890] ` (spaces, 1-10 digits, a dot, 1-9 digits): where the prefix starts;
// -1 for anything else. A sticky regex: faster here than reading the digits one by one.
function kernelStampEnd(line: string, at: number): number {
  KERNEL_STAMP.lastIndex = at;
  return KERNEL_STAMP.test(line) ? KERNEL_STAMP.lastIndex : -1;
}
