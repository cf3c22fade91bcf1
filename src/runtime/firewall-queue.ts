import { logEvents, type LogEvent } from './log-events.js';

const MAX_DELAY = 60_000;
// 1 + 2 + 4 + 8 + 16 + 32 s: a change that still fails after a minute of trying will not
// start working by itself; the operator has to fix something.
export const MAX_TRIES = 7;

export interface FirewallChange {
  // "open of openSSH for 203.0.113.7": what the log says.
  what: string;
  apply: () => Promise<void>;
  // Tried again after a failure only while this says so (a grant closed meanwhile is not
  // opened again).
  stillWanted?: () => boolean;
  // Called once the change is in force.
  done?: () => void;
  // What the operator should fix when it keeps failing.
  fix: string;
  // Called once, after the last try failed.
  gaveUp?: () => void;
}

// Firewall changes, one at a time and in order. A failed change is tried again with a
// doubling delay while it is still wanted, at most MAX_TRIES times; then one ERROR says what
// to fix. Removals are never silently dropped: a grant that should be gone and is not is a hole.
export class FirewallQueue {
  private tail: Promise<void> = Promise.resolve();
  // Each waiting retry's timer, with the change and the try it will be.
  private readonly retries = new Map<NodeJS.Timeout, { change: FirewallChange; attempt: number }>();
  private queued = 0;
  private stopped = false;
  // Set by finish(): a change that fails from then on is not tried again.
  private finishing = false;

  constructor(private readonly emit: (event: LogEvent) => void) {}

  // Queues a change; the promise says whether this try put it in force (a failed one may
  // still be retried).
  async run(change: FirewallChange, attempt = 1): Promise<boolean> {
    this.queued++;
    const outcome = this.tail.then(async () => {
      try {
        if (this.stopped) return false;
        await change.apply();
        change.done?.();
        return true;
      } catch (error) {
        this.failed(change, (error as Error).message, attempt);
        return false;
      } finally {
        this.queued--;
      }
    });
    this.tail = outcome.then(() => undefined);
    return await outcome;
  }

  // Changes waiting to run or to be tried again.
  get pending(): number {
    return this.queued + this.retries.size;
  }

  // Runs `work` alone, after everything queued so far and before anything queued later.
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(() => undefined, () => undefined);
    return await result;
  }

  // Waits until nothing is queued: the changes queued so far and any they or an exclusive
  // piece of work queue meanwhile (retries waiting for their timer are not waited for).
  async settle(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }

  // Before a stop: each change waiting for a retry is queued now (a close that failed is a
  // rule the stop would leave behind), and a failure from here on is logged, not retried.
  finish(): void {
    this.finishing = true;
    for (const [timer, { change, attempt }] of this.retries) {
      clearTimeout(timer);
      if (change.stillWanted?.() ?? false) void this.run(change, attempt);
    }
    this.retries.clear();
  }

  // Pending retries are dropped; what is running finishes.
  stop(): void {
    this.stopped = true;
    for (const timer of this.retries.keys()) clearTimeout(timer);
    this.retries.clear();
  }

  private failed(change: FirewallChange, reason: string, attempt: number): void {
    const wanted = change.stillWanted?.() ?? false;
    if (this.stopped || this.finishing || !wanted) {
      this.emit(logEvents.firewallFailed(change.what, reason));
      return;
    }
    if (attempt >= MAX_TRIES) {
      this.emit(logEvents.firewallGaveUp(change.what, attempt, reason, change.fix));
      change.gaveUp?.();
      return;
    }
    const delay = Math.min(MAX_DELAY, 1000 * 2 ** (attempt - 1));
    this.emit(logEvents.retrying(change.what, reason, delay, attempt));
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (change.stillWanted?.() ?? false) void this.run(change, attempt + 1);
    }, delay);
    this.retries.set(timer, { change, attempt: attempt + 1 });
  }
}
