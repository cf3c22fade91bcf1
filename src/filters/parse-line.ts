import { buildKnock } from './build-knock.js';
import { buildSshAuth, isSshKind } from './build-ssh-auth.js';
import type { KnockEvent } from './events.js';
import { filterFingerprint, NETFILTER_FINGERPRINT } from './filter-fingerprint.js';
import { matchFilter, type Filter } from './load-filter.js';
import { createNetfilterScanner } from './netfilter-scanner.js';
import { createEnvelopeSpans, locateSyslogEnvelope, parseSyslogEnvelope } from './syslog-envelope.js';
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

const MISSED: LineOutcome = { status: 'missed' };
const IGNORED: LineOutcome = { status: 'ignored' };
const OTHER: LineOutcome = { status: 'other' };

export interface LineParser {
  (line: string): LineOutcome;
  // Every event this parser can produce is a knock (the netfilter filter): only then may a
  // line be judged by its DPT= before parsing.
  readonly knocksOnly: boolean;
  // The time of any syslog line, matched or not, so the log clock moves on quiet lines too.
  timeOf(line: string): number | undefined;
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
  const readLine = (line: string): LineOutcome => {
    const envelope = parseSyslogEnvelope(line);
    if (envelope === undefined || !filter.tags.has(envelope.tag)) return IGNORED;
    if (filter.pid === 'none' && envelope.pid !== undefined) return IGNORED;
    const match = matchFilter(filter, envelope.message);
    if (match === undefined) return MISSED;
    if (match.kind === 'other') return OTHER;
    const time = parseTime(envelope.stamp);
    if (time === undefined) return { status: 'invalid', reason: `unreadable time stamp "${envelope.stamp.slice(0, 40)}"` };
    const built = build(match.kind, match.groups, time, envelope.pid);
    return built.ok ? { status: 'event', event: built.event } : { status: 'invalid', reason: built.reason };
  };
  // The built-in netfilter filter, unchanged, with the events it was checked against: the
  // scanner reads the lines it is sure of, the regexes the rest.
  const scan = build === buildEvent && usesNetfilterScanner(filter) ? createNetfilterScanner(parseTime) : undefined;
  const parser = scan === undefined ? readLine : (line: string): LineOutcome => scan(line) ?? readLine(line);
  const spans = createEnvelopeSpans();
  return Object.assign(parser, {
    knocksOnly: filter.rules.every((rule) => rule.kind === 'knock' || rule.kind === 'other'),
    timeOf(line: string): number | undefined {
      return locateSyslogEnvelope(line, spans) ? parseTime.atStart(line, spans.stampEnd) : undefined;
    },
  });
}

// True for filters/netfilter.conf as shipped (whatever its file name): the only filter the
// netfilter scanner answers for.
export function usesNetfilterScanner(filter: Filter): boolean {
  return filterFingerprint(filter) === NETFILTER_FINGERPRINT;
}
