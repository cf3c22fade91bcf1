// How far a log line's time may run ahead of the host clock: syslog daemons and the kernel
// stamp lines with the same clock, so more than this is a forged line, another program's
// line or a clock step, never a real knock.
export const FUTURE_TOLERANCE = 60_000;

// How far a line's time may lag behind the host clock and still be acted on. A busy
// rsyslog or journald can hand lines over late, but not by minutes; a line older than this
// is an old file showing up (a restored backup, a rotation gone wrong) or a forged line, and
// a grant or ban computed from it would start in the past. Knocks logged while knockwatch
// was not running are handled before this check, by Pipeline.ignoreBefore.
export const PAST_TOLERANCE = 10 * 60_000;

export type EventTimeCheck = 'ok' | 'future' | 'past';

// Within the tolerances a line keeps its own time (not clamped to the host's): decisions
// stay those of replay, and what a line slightly ahead can do is bounded by the tolerance.
export function checkEventTime(time: number, hostNow: number): EventTimeCheck {
  if (!(time <= hostNow + FUTURE_TOLERANCE)) return 'future';
  if (time < hostNow - PAST_TOLERANCE) return 'past';
  return 'ok';
}
