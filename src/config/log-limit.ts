import { knockKey } from '../doors/format-step.js';
import type { ConfigProblem, ConfigWarning } from './problems.js';
import type { Parsed } from './parse-values.js';
import { parseCount } from './parse-values.js';
import type { SectionReader } from './section-reader.js';
import type { Door, LogLimit } from './types.js';

// 20/second, burst 60: far above a knock at human speed (a step every ~0.2 s, a SYN
// retransmitted after 1 s, a few doors or a few people behind one NAT address), far below
// a flood (one source at 100k packets/s gets ~20 LOG lines/s through).
export const DEFAULT_LOG_LIMIT: LogLimit = { rate: 20, burst: 60 };
const MAX_RATE = 10_000;
// iptables' hashlimit takes no larger burst.
const MAX_BURST = 10_000;

// `log_limit = 20/second` (or `off`) and `log_burst = 60`; undefined means off.
export function readLogLimit(reader: SectionReader): LogLimit | undefined {
  const rate = reader.parse('log_limit', parseLogRate, DEFAULT_LOG_LIMIT.rate);
  const burst = reader.parse('log_burst', (text) => parseCount(text, 1, MAX_BURST), DEFAULT_LOG_LIMIT.burst);
  return rate === 'off' ? undefined : { rate, burst };
}

function parseLogRate(text: string): Parsed<number | 'off'> {
  const lower = text.trim().toLowerCase();
  if (lower === 'off') return { ok: true, value: 'off' };
  const match = /^(\d{1,6})\s*\/\s*(second|sec|s)$/.exec(lower);
  const rate = match === null ? NaN : Number(match[1]);
  return rate >= 1 && rate <= MAX_RATE
    ? { ok: true, value: rate }
    : { ok: false, expected: `a rate per source (an IPv4 address, an IPv6 /64) such as 20/second (1 to ${MAX_RATE}), or off`, found: text };
}

// The most steps one attempt at the door takes (one-time doors: the longest sequence).
export function doorSteps(door: Door): number {
  const knock = door.knock;
  if (knock.kind === 'rotating') return knock.length;
  return knock.kind === 'static' ? knock.sequence.length : Math.max(0, ...knock.sequences.map((sequence) => sequence.length));
}

export interface LogLimitFit {
  steps: number;
  // Every step gets through when sent back-to-back by a source the limit has not seen lately.
  fitsBurst: boolean;
  // Seconds from the first to the last step for a source that can only send at the limit rate.
  paced: number;
  fitsTimeout: boolean;
  // At the limit rate one step comes every 1/rate seconds: within step_timeout, if set.
  fitsStepTimeout: boolean;
}

// Whether a door can always be knocked under the limit: its steps sent as fast as a client
// likes (within the burst), and again by a source that has used up its burst (at the rate,
// still within seq_timeout).
export function fitLogLimit(door: Door, limit: LogLimit): LogLimitFit {
  const steps = doorSteps(door);
  const paced = Math.max(0, steps - 1) / limit.rate;
  const gap = 1000 / limit.rate;
  return { steps, fitsBurst: steps <= limit.burst, paced, fitsTimeout: paced * 1000 <= door.seqTimeout, fitsStepTimeout: door.stepTimeout === undefined || steps < 2 || gap <= door.stepTimeout };
}

// A door that does not fit is refused: its knock would be lost in the firewall, before
// knockwatch sees it, with nothing in any log to say why.
export function checkLogLimitFit(doors: readonly Door[], limit: LogLimit | undefined, file: string, problems: ConfigProblem[]): void {
  if (limit === undefined) return;
  for (const door of doors) {
    const fit = fitLogLimit(door, limit);
    const key = knockKey(door);
    if (!fit.fitsBurst) {
      problems.push({ file, section: door.name, key, found: `${fit.steps} steps`,
        expected: `at most log_burst (${limit.burst}) steps, or a knock sent back-to-back loses the rest in the firewall (raise log_burst in [options])` });
    }
    if (!fit.fitsTimeout) {
      problems.push({ file, section: door.name, key: 'seq_timeout', found: `${door.seqTimeout / 1000} s`,
        expected: `at least ${seconds(fit.paced)} s: ${fit.steps} steps at log_limit (${limit.rate}/second) take that long (raise log_limit in [options], or seq_timeout)` });
    }
    if (!fit.fitsStepTimeout) {
      problems.push({ file, section: door.name, key: 'step_timeout', found: `${(door.stepTimeout ?? 0) / 1000} s`,
        expected: `at least ${seconds(1 / limit.rate)} s: at log_limit (${limit.rate}/second) a step is logged that long after the last (raise log_limit in [options], or step_timeout)` });
    }
  }
}

// Milliseconds at most, rounded up: "at least" must never read shorter than it is.
function seconds(value: number): number {
  return Math.ceil(value * 1000) / 1000;
}

export function warnLogLimit(reader: SectionReader, doors: readonly Door[], limit: LogLimit | undefined): ConfigWarning[] {
  const warn = (key: string, message: string): ConfigWarning => ({ file: reader.file, section: reader.section, key: reader.originalKey(key), message });
  if (limit === undefined) {
    return [
      warn('log_limit', 'off: the knock LOG rules log every packet, so one flooding source can fill the kernel log and crowd out real knocks.'),
      ...(reader.has('log_burst') ? [warn('log_burst', 'no effect with log_limit = off.')] : []),
    ];
  }
  // One address knocking every door in a row (or a few users behind one NAT address).
  const total = doors.reduce((sum, door) => sum + doorSteps(door), 0);
  if (doors.length < 2 || total <= limit.burst) return [];
  return [warn('log_burst', `${limit.burst} is less than the ${total} steps of all ${doors.length} doors: one address knocking them back-to-back loses steps beyond ${limit.burst} in the firewall unless it sends them slower than log_limit (${limit.rate}/second).`)];
}
