import { formatStep } from '../doors/format-step.js';
import type { BreakReason, Decision } from '../engine/decisions.js';
import type { FollowNotice } from '../sources/follow-file.js';
import { FUTURE_TOLERANCE, PAST_TOLERANCE } from './event-time.js';
import type { Level } from './logger.js';
import type { SourceNotice } from '../sources/source-notice.js';
import { describeHeld, LINES_PER_KIND, REPORT_MINUTE, reportKind } from './report-limit.js';

// Every message the daemon logs, in one place. Messages start with a capital and end with
// a period; ERROR is only for what an operator must fix.
export interface LogEvent {
  level: Level;
  message: string;
  // A decision's report: what it is counted as when a flood of them is summarised (report-limit.ts).
  kind?: string | undefined;
}

const seconds = (ms: number): string => (Number.isFinite(ms) ? `${Math.round(ms / 100) / 10}s` : 'until closed');

export const logEvents = {
  // `sources`: one "kernel: kmsg (auto)" line per role, as source-choice.ts words them.
  started: (config: string, firewall: string, sources: string[]): LogEvent =>
    ({ level: 'notice', message: `Started with ${config}, firewall ${firewall}, reading ${sources.join('; ')}.` }),
  firewallInstalled: (firewall: string, grants: number): LogEvent =>
    ({ level: 'info', message: `Installed the ${firewall} ruleset with ${grants} live grant${grants === 1 ? '' : 's'}.` }),
  otherKindRemoved: (what: string, firewall: string): LogEvent =>
    ({ level: 'notice', message: `Removed the ${what}, left by a run with another firewall =: its gate would drop what ${firewall} grants.` }),
  otherKindLeft: (reason: string, firewall: string): LogEvent =>
    ({ level: 'error', message: `Could not remove what a run with another firewall = left (${reason}): its gate drops what ${firewall} grants, so only the whitelist gets in until it is removed by hand.` }),
  firewallMissing: (firewall: string): LogEvent =>
    ({ level: 'warning', message: `The ${firewall} ruleset is not what knockwatch installed (flushed or edited by someone else?); installing it again.` }),
  // Windows are epoch seconds.
  clockBehindWindow: (door: string, window: number, latest: number): LogEvent =>
    ({ level: 'warning', message: `The clock is behind door ${door}'s latest window (${new Date(window * 1000).toISOString()} before ${new Date(latest * 1000).toISOString()}): windows older than the latest minus skew are not accepted until it catches up.` }),
  firewallFailed: (what: string, reason: string): LogEvent =>
    ({ level: 'warning', message: `Firewall ${what} failed: ${reason}.` }),
  firewallStopFailed: (reason: string): LogEvent =>
    ({ level: 'error', message: `Removing the grants on stop failed: ${reason}. Run "knockwatch flush" or remove them by hand.` }),
  retrying: (what: string, reason: string, inMs: number, attempt: number): LogEvent =>
    ({ level: 'warning', message: `Firewall ${what} failed (try ${attempt}): ${reason}; trying again in ${seconds(inMs)}.` }),
  firewallGaveUp: (what: string, tries: number, reason: string, fix: string): LogEvent =>
    ({ level: 'error', message: `Gave up on firewall ${what} after ${tries} tries: ${reason}. ${fix}` }),
  decision: (decision: Decision): LogEvent | undefined => {
    const event = describeDecision(decision);
    return event === undefined ? undefined : { ...event, kind: reportKind(decision) };
  },
  heldReports: (minute: number, held: ReadonlyMap<string, number>): LogEvent =>
    ({ level: 'info', message: `Not logged one by one in the minute from ${new Date(minute).toISOString()} (past ${LINES_PER_KIND} of a kind in ${REPORT_MINUTE / 60_000} min): ${describeHeld(held)}.` }),
  follow: (path: string, notice: FollowNotice): LogEvent => {
    switch (notice.type) {
      case 'resumed': return { level: 'info', message: `Resuming ${path} at byte ${notice.offset}.` };
      case 'started-at-end': return { level: 'info', message: `Reading ${path} from its end (${notice.reason}).` };
      case 'rotated': return { level: 'info', message: `${path} was rotated; following the new file.` };
      case 'truncated':
        if (notice.copy !== undefined) return { level: 'info', message: `${path} was truncated (copytruncate); read the lines written before the copy from ${notice.copy}, reading from its start.` };
        if (notice.lost === true) return { level: 'warning', message: `${path} was truncated; reading from its start. Lines written between the last read and the truncation may be lost: no single rotated copy of it (.1 or dated) was found to read them from.` };
        return { level: 'info', message: `${path} was truncated; reading from ${notice.offset === 0 ? 'its start' : `byte ${notice.offset}, the part before was read`}.` };
      // A followed file that goes away is a rotation in progress, not a problem.
      case 'missing': return notice.followed
        ? { level: 'info', message: `${path} was moved away or deleted (rotation?); waiting for the new file.` }
        : { level: 'warning', message: `${path} does not exist (yet); waiting for it.` };
      case 'appeared': return { level: 'info', message: notice.again ? `${path} is there again.` : `${path} is there now; reading it.` };
      case 'error': return { level: 'error', message: `Reading ${path} failed: ${notice.message}. Check that the file is readable.` };
      case 'readable': return { level: 'notice', message: `Reading ${path} works again.` };
    }
  },
  // A kmsg or journal source's own report (lost records, journalctl exiting, a stale cursor).
  sourceMessage: (name: string, notice: SourceNotice): LogEvent =>
    ({ level: notice.level, message: `${name}: ${notice.message.endsWith('.') ? notice.message : `${notice.message}.`}` }),
  staleKnocks: (count: number): LogEvent =>
    ({ level: 'info', message: `Not acting on ${count} knock${count === 1 ? '' : 's'} older than the doors' seq_timeout (logged while knockwatch was not running).` }),
  invalidLines: (count: number, reason: string): LogEvent =>
    ({ level: 'warning', message: `Skipped ${count} invalid log line${count === 1 ? '' : 's'} (${reason}).` }),
  configWarning: (text: string): LogEvent => ({ level: 'warning', message: text.endsWith('.') ? text : `${text}.` }),
  outOfRangeLines: (future: number, past: number): LogEvent =>
    ({ level: 'warning', message: `Not acting on ${future + past} log line${future + past === 1 ? '' : 's'} stamped too far from the host clock (${future} more than ${FUTURE_TOLERANCE / 1000}s ahead, ${past} more than ${PAST_TOLERANCE / 60_000} min behind): forged lines, another program's lines or a clock step.` }),
  sourcesKept: (reason: string): LogEvent =>
    ({ level: 'error', message: `The new config's sources did not start (${reason}); still reading the ones before.` }),
  reloaded: (config: string): LogEvent => ({ level: 'notice', message: `Reloaded ${config}.` }),
  reloadRefused: (config: string, problems: string): LogEvent =>
    ({ level: 'error', message: `Kept the running config: ${config} has problems: ${problems}` }),
  stateUnreadable: (path: string, reason: string): LogEvent =>
    ({ level: 'warning', message: `Ignoring the state file ${path}: ${reason}.` }),
  stateWriteFailed: (path: string, reason: string): LogEvent =>
    ({ level: 'error', message: `Cannot write the state file ${path}: ${reason}. Grants will not survive a restart.` }),
  stateWrittenAgain: (path: string): LogEvent =>
    ({ level: 'notice', message: `Wrote the state file ${path} again.` }),
  stateEntryDropped: (from: string, warning: string): LogEvent =>
    ({ level: 'warning', message: `Not restoring from ${from}: ${warning}.` }),
  banLifted: (src: string): LogEvent =>
    ({ level: 'notice', message: `Lifted the ban of ${src}: the config whitelists it.` }),
  restored: (live: number, expired: number): LogEvent =>
    ({ level: 'info', message: `Restored ${live} live grant${live === 1 ? '' : 's'} from the state file (${expired} had expired).` }),
  rollingBack: (reason: string): LogEvent => ({ level: 'warning', message: `Not confirmed (${reason}); removing everything knockwatch installed.` }),
  rolledBack: (firewall: string): LogEvent => ({ level: 'notice', message: `Removed knockwatch's ${firewall} ruleset; the firewall is as it was before.` }),
  stopping: (signal: string): LogEvent => ({ level: 'notice', message: `Stopping on ${signal}.` }),
  stopped: (): LogEvent => ({ level: 'notice', message: 'Stopped.' }),
};

// Why an attempt broke, in words ("8000/tcp at step 2 (expected 7000/tcp)").
export function describeBreak(why: BreakReason): string {
  switch (why.reason) {
    case 'wrong-port':
      if ('missing' in why) return `${formatStep(why.got)} is not one of the missing steps`;
      return `${formatStep(why.got)} at step ${why.step} (expected ${why.expected ? formatStep(why.expected) : '?'})`;
    case 'timeout':
      return `${why.got} of ${why.of} steps within ${why.within / 1000}s`;
    case 'step-timeout':
      return `no step ${why.step} within ${why.within / 1000}s of step ${why.step - 1}`;
    case 'strict':
      return `other packet ${why.got === 'icmp' ? 'icmp (not an echo request)' : formatStep(why.got)} (strict door)`;
    case 'trap':
      return `trap port ${formatStep(why.port)}`;
    case 'evicted':
      return `more than ${why.cap} sources tracked`;
    case 'used':
      return 'another address used this one-time sequence first';
    case 'unmarked':
      return 'its line could not be marked used in the one-time sequences file (not writable, or full): the sequence is used up and opens nothing';
    case 'window-gone':
      return 'its window is accepted no more (the window turned past skew during the knock)';
    case 'window-used':
      return 'this address already opened with this window\'s sequence (once_per_window)';
  }
}

// A decision in words, before report-limit.ts may count it instead.
function describeDecision(decision: Decision): LogEvent | undefined {
  switch (decision.type) {
    case 'open':
      return { level: 'notice', message: `Opened ${decision.ports.map(formatStep).join(',') || decision.door} for ${decision.src} (door ${decision.door}, ${seconds(decision.expires - decision.time)}).` };
    case 'extend':
      return { level: 'info', message: `Extended ${decision.door} for ${decision.src} by a new knock.` };
    case 'close':
      return { level: 'notice', message: `Closed ${decision.door} for ${decision.src} (${decision.by}).` };
    case 'expire':
      return { level: 'notice', message: `Closed ${decision.door} for ${decision.src} (expired).` };
    case 'broken':
      return { level: 'info', message: `Knock of ${decision.src} on ${decision.door} broken: ${decision.reason}, ${describeBreak(decision)}.` };
    case 'trapped':
      return { level: 'notice', message: `Refusing ${decision.src}: knocked trap port ${formatStep(decision.knock)}.` };
    case 'banned':
      // A ban another fleet host decided (src/fleet/): no failed logins counted here.
      if (decision.origin !== undefined) return { level: 'notice', message: `Banned ${decision.src} until ${new Date(decision.until).toISOString()}: banned by fleet host ${decision.origin}.` };
      return { level: 'notice', message: `Banned ${decision.src} until ${new Date(decision.until).toISOString()}: ${decision.failures} failed logins${decision.offense > 1 ? ` (offense ${decision.offense})` : ''}.` };
    case 'unbanned':
      return { level: 'info', message: `Ban of ${decision.src} is over.` };
    case 'logout':
      return { level: 'info', message: `Last SSH session of ${decision.src} ended.` };
    case 'login':
      return { level: 'info', message: `SSH login of ${JSON.stringify(decision.user)} from ${decision.src}.` };
    case 'flags':
      return { level: 'debug', message: `Ignored a knock of ${decision.src} on ${formatStep(decision.knock)}: flags ${decision.flags}, door ${decision.door} wants ${decision.expected}.` };
    default:
      return { level: 'debug', message: `${decision.type} ${decision.src}.` };
  }
}
