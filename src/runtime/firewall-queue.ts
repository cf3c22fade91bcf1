import { logEvents, type LogEvent } from './log-events.js';

const MAX_RETRY = 60_000;

// Firewall changes, one at a time and in order. A failed change is logged and, while
// `stillWanted` says so, tried again with a doubling delay (1 s, 2 s ... 60 s): a grant that
// should be gone and is not is a hole, so removals are never silently dropped.
export class FirewallQueue {
  private tail: Promise<void> = Promise.resolve();
  private readonly retries = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly emit: (event: LogEvent) => void) {}

  run(what: string, change: () => Promise<void>, stillWanted: () => boolean = () => false, attempt = 0): void {
    this.tail = this.tail.then(async () => {
      try {
        await change();
      } catch (error) {
        this.emit(logEvents.firewallFailed(what, (error as Error).message));
        if (this.stopped || !stillWanted()) return;
        const delay = Math.min(MAX_RETRY, 1000 * 2 ** attempt);
        this.emit(logEvents.retrying(what, delay));
        const timer = setTimeout(() => {
          this.retries.delete(timer);
          if (stillWanted()) this.run(what, change, stillWanted, attempt + 1);
        }, delay);
        this.retries.add(timer);
      }
    });
  }

  // Waits for the changes queued so far.
  async settle(): Promise<void> {
    await this.tail;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
  }
}
