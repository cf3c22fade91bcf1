import { statSync } from 'node:fs';
import { isEchoRequest, type Knock, type KnockEvent } from '../filters/events.js';
import { formatFlags } from '../net/tcp-flags.js';
import { createLineParser } from '../filters/parse-line.js';
import { createSyslogTimeParser } from '../filters/syslog-time.js';
import { openLog, readLineBatches } from '../sources/read-lines.js';
import { formatTime } from './format-time.js';
import { checkInputFiles, loadFilter, resolveTimeZone } from './inputs.js';
import { UsageError } from './usage-error.js';
import type { CliValues } from './values.js';
import { line, type Deps } from './output.js';

const SHOW_MISSED = 20;
const CLASS_ORDER = ['failure', 'login', 'logout', 'noise'];

// fail2ban-regex for knockwatch: how a filter reads a log.
export async function runParse(files: readonly string[], values: CliValues, deps: Deps): Promise<number> {
  if (files.length > 1) throw new UsageError('parse reads one file at a time');
  checkInputFiles(files);
  const file = files[0] ?? '-';
  const filter = loadFilter(values.filter ?? 'netfilter');
  const zone = resolveTimeZone(values, undefined);
  const reference = file === '-' ? deps.clock.now() : statSync(file).mtimeMs;
  const parse = createLineParser(filter, createSyslogTimeParser({ timeZone: zone, reference }));
  const counts = { lines: 0, matched: 0, missed: 0, ignored: 0, invalid: 0, otherProtocol: 0, oversize: 0 };
  const missed: string[] = [];
  // sshd events per class, and per kind within it
  const classes = new Map<string, Map<string, number>>();
  const json = values.json === true;
  for await (const batch of readLineBatches(openLog(file))) {
    counts.oversize += batch.oversize;
    for (const text of batch.lines) {
      counts.lines++;
      const outcome = parse(text);
      if (outcome.status === 'event') {
        counts.matched++;
        if (outcome.event.type === 'ssh') {
          const kinds = classes.get(outcome.event.class) ?? new Map<string, number>();
          kinds.set(outcome.event.kind, (kinds.get(outcome.event.kind) ?? 0) + 1);
          classes.set(outcome.event.class, kinds);
        }
        line(deps.stdout, json ? JSON.stringify({ line: counts.lines, ...outcome.event, time: new Date(outcome.event.time).toISOString() })
          : `line ${counts.lines}: ${describeEvent(outcome.event, zone)}`);
      } else if (outcome.status === 'invalid') {
        counts.invalid++;
        line(deps.stdout, json ? JSON.stringify({ line: counts.lines, invalid: outcome.reason }) : `line ${counts.lines}: INVALID ${outcome.reason}`);
      } else if (outcome.status === 'other') {
        counts.otherProtocol++;
      } else if (outcome.status === 'missed') {
        counts.missed++;
        if (missed.length < SHOW_MISSED) missed.push(`line ${counts.lines}: ${text.slice(0, 160)}`);
      } else {
        counts.ignored++;
      }
    }
  }
  if (json) {
    const sshd = classes.size === 0 ? {} : { classes: Object.fromEntries([...classes].map(([name, kinds]) => [name, { lines: total(kinds), kinds: Object.fromEntries(kinds) }])) };
    line(deps.stdout, JSON.stringify({ type: 'summary', filter: filter.name, ...counts, ...sshd }));
    return 0;
  }
  line(deps.stdout);
  line(deps.stdout, `Filter ${filter.name} (tags: ${[...filter.tags].join(', ')}) on ${file}`);
  line(deps.stdout, `  lines ${counts.lines}: matched ${counts.matched}, missed ${counts.missed}, ignored ${counts.ignored} (other tags or not syslog), invalid ${counts.invalid}, other protocol ${counts.otherProtocol}, oversize ${counts.oversize}`);
  for (const name of CLASS_ORDER) {
    const kinds = classes.get(name);
    if (kinds !== undefined) line(deps.stdout, `  ${name} ${total(kinds)}: ${[...kinds].map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
  }
  if (missed.length > 0) {
    line(deps.stdout, `  missed lines from ${[...filter.tags].join('/')} (first ${missed.length}):`);
    for (const text of missed) line(deps.stdout, `    ${text}`);
  }
  return 0;
}

function total(kinds: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const n of kinds.values()) sum += n;
  return sum;
}

function describeEvent(event: KnockEvent, zone: string | undefined): string {
  const time = formatTime(event.time, zone);
  if (event.type === 'ssh') {
    return `${time} ssh ${event.class} ${event.kind} ${event.src ?? '(by pid)'} pid ${event.pid ?? '-'}${event.user !== undefined ? ` user ${JSON.stringify(event.user)}` : ''}${event.method ? ` ${event.method}` : ''}${event.invalidUser ? ' (invalid user)' : ''}`;
  }
  const port = event.proto === 'icmp' ? ` ${describeIcmp(event)}` : ` ${event.dport} from port ${event.spt}`;
  const flags = event.proto === 'tcp' ? ` [${formatFlags(event.flags) || 'no flags'}]` : '';
  return `${time} knock ${event.src} -> ${event.dst} ${event.proto}${port}${flags} in ${event.iface || '-'}${event.prefix ? ` prefix "${event.prefix}"` : ''}`;
}

// An ICMP knock's type and IP packet length (the kernel's LEN=); an echo request says which
// `icmp:N` step it is.
function describeIcmp(knock: Knock): string {
  const length = knock.len === undefined ? 'length ?' : `length ${knock.len}`;
  return `type ${knock.icmpType ?? '?'} ${length}${isEchoRequest(knock) && knock.len !== undefined ? ` (step icmp:${knock.len})` : ''}`;
}
