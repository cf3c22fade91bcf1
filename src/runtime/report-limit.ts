import type { Decision } from '../engine/decisions.js';

// Per kind of report, the first this many of a minute are logged one by one; the rest of
// that minute are counted, and the counts are logged once the minute is over. A knock at
// human speed from a few sources stays line by line; a spoofed flood costs one line a minute.
export const LINES_PER_KIND = 20;
export const REPORT_MINUTE = 60_000;

// Logged one by one however many there are: what changes the firewall, and who logs in or
// out (an sshd login takes a real connection: no spoofed source can make one).
const ALWAYS = new Set<Decision['type']>(['open', 'extend', 'close', 'expire', 'banned', 'unbanned', 'completed', 'login', 'logout']);

// The kind a decision's report is counted under, or undefined for one never held back.
export function reportKind(decision: Decision): string | undefined {
  if (ALWAYS.has(decision.type)) return undefined;
  if (decision.type === 'broken' || decision.type === 'refused') return `${decision.type} (${decision.reason})`;
  return decision.type;
}

// "949980 broken (evicted), 12 trapped"
export function describeHeld(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([kind, count]) => `${count} ${kind}`).join(', ');
}

// Minutes are whole minutes of the time given (the log's time in replay, the host clock
// live); a time before the current minute counts in the current one.
export class ReportLimit {
  private minute = -Infinity;
  private readonly seen = new Map<string, number>();
  private held = new Map<string, number>();

  // `summarise` gets the start of a minute and what was held back in it.
  constructor(private readonly summarise: (minute: number, held: ReadonlyMap<string, number>) => void) {}

  // Whether a report of `kind` at `now` is logged on its own; false: it is counted.
  admit(kind: string, now: number): boolean {
    this.advance(now);
    const seen = (this.seen.get(kind) ?? 0) + 1;
    this.seen.set(kind, seen);
    if (seen <= LINES_PER_KIND) return true;
    this.held.set(kind, (this.held.get(kind) ?? 0) + 1);
    return false;
  }

  // Ends the current minute once `now` is past it.
  advance(now: number): void {
    const minute = Math.floor(now / REPORT_MINUTE) * REPORT_MINUTE;
    if (minute <= this.minute) return;
    this.flush();
    this.minute = minute;
  }

  // Summarises what the current minute held back so far (at the end of a replay, on stop).
  flush(): void {
    if (this.held.size > 0) this.summarise(this.minute, this.held);
    this.held = new Map();
    this.seen.clear();
  }
}
