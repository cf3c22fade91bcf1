import { buildKnock } from './build-knock.js';
import { buildSshAuth, createSshAuthReader, isSshKind } from './build-ssh-auth.js';
import { OTHER_PORT_KEY, portKey } from './destination-port.js';
import type { KnockEvent } from './events.js';
import { filterFingerprint, NETFILTER_FINGERPRINT } from './filter-fingerprint.js';
import { createRuleMatcher, namedGroups, type Filter, type FilterRule } from './load-filter.js';
import { createNetfilterScanner } from './netfilter-scanner.js';
import type { KnockTemplates } from './knock-templates.js';
import { createEnvelopeSpans, locateSyslogEnvelope, type EnvelopeSpans } from './syslog-envelope.js';
import type { SyslogTimeParser } from './syslog-time.js';

export type LineOutcome =
  | { status: 'event'; event: KnockEvent }
  // From one of the filter's tags, but no regex matched.
  | { status: 'missed' }
  // Not a syslog line from one of the filter's tags.
  | { status: 'ignored' }
  // Matched, but a field failed validation (address, port, time); never an event.
  | { status: 'invalid'; reason: string }
  // Read by a regex of kind `other`: a line the filter knows that can never be an event
  // (a packet of another protocol, a fragment without ports).
  | { status: 'other' };

// A LOG line for a destination port no door or trap uses (see LineParser.readKnockLine).
export type OtherPortOutcome = { status: 'otherPort' };

const OTHER_PORT: OtherPortOutcome = { status: 'otherPort' };
const MISSED: LineOutcome = { status: 'missed' };
const IGNORED: LineOutcome = { status: 'ignored' };
const OTHER: LineOutcome = { status: 'other' };

export interface LineParser {
  (line: string): LineOutcome;
  // Every event this parser can produce is a knock (the netfilter filter): only then may a
  // line be judged by its DPT= before parsing.
  readonly knocksOnly: boolean;
  // For a knocksOnly parser: the line's outcome, except that a line whose first ` DPT=` names a
  // port that is 0 in `ports` (65,536 entries) is otherPort before anything else reads it. An
  // event outcome may be one object reused by the next call: it is read before that.
  readKnockLine(line: string, ports: Uint8Array): LineOutcome | OtherPortOutcome;
  // The time of any syslog line, matched or not, so the log clock moves on quiet lines too.
  timeOf(line: string): number | undefined;
  // The netfilter scanner's line templates (knock-templates.ts), for the built-in netfilter
  // filter only.
  readonly knockTemplates: Pick<KnockTemplates, 'specs' | 'version'> | undefined;
  // The stamp parser this parser reads times with.
  readonly parseTime: SyslogTimeParser;
}

export type EventBuilder = (kind: string, groups: Record<string, string | undefined>, time: number, pid: number | undefined)
  => { ok: true; event: KnockEvent } | { ok: false; reason: string };

// Every kind a filter's failregex may name, and how its named groups become an event.
export const buildEvent: EventBuilder = (kind, groups, time, pid) => {
  if (kind === 'knock') return buildKnock(groups, time);
  if (isSshKind(kind)) return buildSshAuth(kind, groups, time, pid);
  return { ok: false, reason: `no event of kind "${kind}"` };
};

export function createLineParser(filter: Filter, parseTime: SyslogTimeParser, build: EventBuilder = buildEvent): LineParser {
  const matchRule = createRuleMatcher(filter);
  // With the built-in builder, an sshd rule's event is read from its captures by index.
  const readers = filter.rules.map((rule) => (build === buildEvent && isSshKind(rule.kind) ? createSshAuthReader(rule.kind, rule.groupNames) : undefined));
  const tags = [...filter.tags];
  const envelope = createEnvelopeSpans();
  const readLine = (line: string): LineOutcome => {
    if (!locateSyslogEnvelope(line, envelope) || !hasTag(line, envelope, tags)) return IGNORED;
    const pid = envelope.pid;
    if (filter.pid === 'none' && pid !== undefined) return IGNORED;
    // Blanks that end a message are no part of it (old sshd wrote `... from ADDR ` on PAM
    // failures; relays pad): every regex ends at the last character that is not one.
    let end = line.length;
    for (let c = line.charCodeAt(end - 1); (c === 32 || c === 9) && end > envelope.messageStart; c = line.charCodeAt(--end - 1));
    const found = matchRule(line.slice(envelope.messageStart, end));
    if (found === undefined) return MISSED;
    const rule = filter.rules[found.index] as FilterRule;
    if (rule.kind === 'other') return OTHER;
    const time = parseTime.atStart(line, envelope.stampEnd);
    if (time === undefined) return { status: 'invalid', reason: `unreadable time stamp "${line.slice(0, Math.min(envelope.stampEnd, 40))}"` };
    const reader = readers[found.index];
    if (reader !== undefined) {
      const event = reader(found.match, time, pid);
      return typeof event === 'string' ? { status: 'invalid', reason: event } : { status: 'event', event };
    }
    const built = build(rule.kind, namedGroups(rule, found.match), time, pid);
    return built.ok ? { status: 'event', event: built.event } : { status: 'invalid', reason: built.reason };
  };
  // The built-in netfilter filter, unchanged, with the events it was checked against: the
  // scanner reads the lines it is sure of, the regexes the rest.
  const scan = build === buildEvent && usesNetfilterScanner(filter) ? createNetfilterScanner(parseTime) : undefined;
  const parser = scan === undefined ? readLine : (line: string): LineOutcome => {
    const scanned = scan(line);
    if (scanned === undefined) return readLine(line);
    return scanned.status === 'event' ? { status: 'event', event: scanned.event } : scanned;
  };
  const spans = createEnvelopeSpans();
  return Object.assign(parser, {
    knockTemplates: scan?.templates,
    parseTime,
    knocksOnly: filter.rules.every((rule) => rule.kind === 'knock' || rule.kind === 'other'),
    readKnockLine(line: string, ports: Uint8Array): LineOutcome | OtherPortOutcome {
      const dptKey = portKey(line, ports);
      if (dptKey === OTHER_PORT_KEY) return OTHER_PORT;
      if (scan === undefined) return readLine(line);
      // The templates and the scanner take the port from where this search found it. A
      // template holds a ` DPT=`: a line without one is not tried against them.
      return (dptKey > 0 ? scan.known(line, dptKey) : undefined) ?? scan(line, dptKey) ?? readLine(line);
    },
    timeOf(line: string): number | undefined {
      return locateSyslogEnvelope(line, spans) ? parseTime.atStart(line, spans.stampEnd) : undefined;
    },
  });
}

// Whether the envelope's tag is one of `tags`, read in place.
function hasTag(line: string, spans: EnvelopeSpans, tags: readonly string[]): boolean {
  const length = spans.tagEnd - spans.tagStart;
  for (const tag of tags) if (tag.length === length && line.startsWith(tag, spans.tagStart)) return true;
  return false;
}

// True for filters/netfilter.conf as shipped (whatever its file name): the only filter the
// netfilter scanner answers for.
export function usesNetfilterScanner(filter: Filter): boolean {
  return filterFingerprint(filter) === NETFILTER_FINGERPRINT;
}
