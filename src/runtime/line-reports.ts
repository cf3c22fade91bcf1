import { logEvents, type LogEvent } from './log-events.js';
import type { PipelineStats } from './pipeline.js';
import { ReportLimit } from './report-limit.js';

// Invalid and out-of-range lines are summed up at most this often, however many arrive.
const REPORT_EVERY = 60_000;

// Turns the pipeline's counters of lines not acted on into log messages: stale knocks as
// they come, invalid and out-of-range lines at most once a minute each. Every log message
// passes through log(): decisions' reports past LINES_PER_KIND of a kind in a minute are
// counted, and the counts logged when the minute is over (report-limit.ts).
export class LineReports {
  private stale = 0;
  private invalid = 0;
  private outOfRange = { future: 0, past: 0 };
  private lastInvalidReport = -Infinity;
  private lastOutOfRangeReport = -Infinity;

  private readonly limit: ReportLimit;

  // `now`: the host clock, which the minutes of held-back reports are counted in.
  constructor(private readonly emit: (event: LogEvent) => void, private readonly now: () => number = () => 0) {
    this.limit = new ReportLimit((minute, held) => emit(logEvents.heldReports(minute, held)));
  }

  log(event: LogEvent): void {
    if (event.kind === undefined || this.limit.admit(event.kind, this.now())) this.emit(event);
  }

  // Logs what the minute so far held back (the daemon stops).
  flush(): void {
    this.limit.flush();
  }

  // A new pipeline (a reload) counts from zero; the once-a-minute limits go on.
  reset(): void {
    this.stale = 0;
    this.invalid = 0;
    this.outOfRange = { future: 0, past: 0 };
  }

  report(stats: Pick<PipelineStats, 'stale' | 'invalid' | 'invalidReasons' | 'outOfRange'>, now: number): void {
    this.limit.advance(now);
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
