import { formatStep } from '../doors/format-step.js';
import type { Decision } from '../engine/decisions.js';
import { describeBreak } from '../runtime/log-events.js';
import { formatSeconds, formatTime } from './format-time.js';

// Decisions shown without -v: what an admin needs to see of a log.
const TIMELINE = new Set<Decision['type']>(['open', 'extend', 'close', 'expire', 'broken', 'flags', 'trapped', 'banned', 'unbanned', 'login', 'logout']);

export function isTimelineDecision(decision: Decision, verbose: boolean): boolean {
  return verbose || TIMELINE.has(decision.type);
}

export function formatDecision(decision: Decision, zone: string | undefined, doorWidth = 0): string {
  const d = 'door' in decision ? decision.door.padEnd(doorWidth) : '';
  const head = `${formatTime(decision.time, zone)}  ${decision.type.toUpperCase().padEnd(10)} ${decision.src.padEnd(18)}`;
  switch (decision.type) {
    case 'open':
      return `${head} ${d}  ${decision.ports.map(formatStep).join(',') || '(command)'} for ${formatSeconds(decision.expires - decision.time)}`;
    case 'extend':
      return `${head} ${d}  now until ${formatTime(decision.expires, zone)}`;
    case 'close':
      return `${head} ${d}  by ${decision.by}`;
    case 'expire':
      return `${head} ${decision.door}`;
    case 'broken':
      return `${head} ${d}  ${decision.reason}: ${describeBreak(decision)}`;
    case 'flags':
      return `${head} ${d}  ignored ${formatStep(decision.knock)} with flags ${decision.flags} (door wants ${decision.expected})`;
    case 'trapped':
      return `${head} trap port ${formatStep(decision.knock)}, refused until ${formatTime(decision.until, zone)}`;
    case 'refused':
      return `${head} ${decision.reason} until ${formatTime(decision.until, zone)}`;
    case 'step':
      return `${head} ${d}  step ${decision.step}/${decision.of} ${formatStep(decision.knock)}`;
    case 'retransmit':
      return `${head} ${formatStep(decision.knock)} from port ${decision.spt} again: one knock`;
    case 'completed':
      return `${head} ${d}  sequence complete`;
    case 'login':
      return `${head} ssh login of ${JSON.stringify(decision.user)} (sshd pid ${decision.pid})`;
    case 'logout':
      return `${head} last ssh session ended (sshd pid ${decision.pid})`;
    case 'failure':
      return `${head} ssh login failed (${decision.count} within findtime)`;
    case 'banned':
      return `${head} ${decision.failures} failed logins: banned until ${formatTime(decision.until, zone)}${decision.offense > 1 ? ` (offense ${decision.offense}, ban doubled)` : ''}`;
    case 'unbanned':
      return `${head} ban over`;
  }
}

export function decisionToJson(decision: Decision): string {
  return JSON.stringify(decision, (key, value: unknown) => {
    if ((key === 'time' || key === 'expires' || key === 'until' || key === 'closeAt') && typeof value === 'number') {
      return Number.isFinite(value) ? new Date(value).toISOString() : null;
    }
    return value;
  });
}
