import { logEvents, type LogEvent } from './log-events.js';
import type { PipelineStats } from './pipeline.js';

// Invalid and out-of-range lines are summed up at most this often, however many arrive.
export const REPORT_EVERY = 60_000;

// Turns the pipeline's counters of lines not acted on into log messages: stale knocks as
// they come, invalid and out-of-range lines at most once a minute each.
export class LineReports {
  private stale = 0;
  private invalid = 0;
  private outOfRange = { future: 0, past: 0 };
  private lastInvalidReport = -Infinity;
  private lastOutOfRangeReport = -Infinity;

  constructor(private readonly emit: (event: LogEvent) => void) {}

  // A new pipeline (a reload) counts from zero; the once-a-minute limits go on.
  reset(): void {
    this.stale = 0;
    this.invalid = 0;
    this.outOfRange = { future: 0, past: 0 };
  }

  report(stats: Pick<PipelineStats, 'stale' | 'invalid' | 'invalidReasons' | 'outOfRange'>, now: number): void {
    if (stats.stale > this.stale) {
      this.emit(logEvents.staleKnocks(stats.stale - this.stale));
      this.stale = stats.stale;
    }
    if (stats.invalid > this.invalid && now - this.lastInvalidReport >= REPORT_EVERY) {
      this.lastInvalidReport = now;
      const reasons = [...stats.invalidReasons.keys()].slice(0, 3).join('; ');
      this.emit(logEvents.invalidLines(stats.invalid - this.invalid, reasons));
      this.invalid = stats.invalid;
    }
    const { future, past } = stats.outOfRange;
    if (future + past > this.outOfRange.future + this.outOfRange.past && now - this.lastOutOfRangeReport >= REPORT_EVERY) {
      this.lastOutOfRangeReport = now;
      this.emit(logEvents.outOfRangeLines(future - this.outOfRange.future, past - this.outOfRange.past));
      this.outOfRange = { future, past };
    }
  }
}
