import type { Options } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import type { BanStore } from './ban-store.js';

export type FailureOptions = Pick<Options, 'maxRetry' | 'findTime' | 'banTime' | 'banTimeMax'>;

interface Failures {
  // The address as the caller gave it (an own copy, not a slice of a log chunk).
  src: string;
  times: number[];
  // The latest of `times`.
  latest: number;
  // Cleanups run when `times` was last trimmed: the ones since then still have to drop its
  // old times, and the latest of them drops all a missed one would have.
  cleanups: number;
  // Taken out of the table (banned or forgotten): a new entry stands for the address now.
  removed: boolean;
}

// sshd login failures per address, fail2ban style: maxretry within findtime bans the address
// (in the ban store) for bantime, doubling per repeat up to bantime_max.
export class FailureCounter {
  private readonly failures = new Map<string, Failures>();
  // Each address again at every failure, with that failure's `latest`, in time order (while
  // `sorted`): a cleanup (once a log second) reads only the addresses it forgets, not every
  // address. An address whose `latest` has moved on since is skipped there.
  private queue: Failures[] = [];
  private queueTimes: number[] = [];
  private head = 0;
  private sorted = true;
  private cleanups = 0;
  private lastCleanup = -Infinity;

  constructor(private readonly bans: BanStore, private readonly options: FailureOptions) {}

  // Addresses with failures on record.
  get size(): number {
    return this.failures.size;
  }

  // `src` is kept as it is given: an own copy (own-copy.ts), not a slice of a log chunk.
  count(src: string, time: number): Decision[] {
    let entry = this.failures.get(src);
    // An address with failures on record is not whitelisted (the whitelist never changes).
    if (entry === undefined && this.bans.exempt(src)) return [];
    if (this.bans.bannedUntil(src, time) !== undefined) return [];
    const findTime = this.options.findTime;
    if (entry === undefined) {
      entry = { src, times: [time], latest: time, cleanups: this.cleanups, removed: false };
      this.failures.set(entry.src, entry);
    } else {
      const cleanedUp = entry.cleanups < this.cleanups;
      // Trimmed in place: times from the log can step back, so the latest is looked for.
      const times = entry.times;
      let kept = 0;
      let latest = time;
      for (const at of times) {
        if (time - at <= findTime && !(cleanedUp && this.lastCleanup - at > findTime)) {
          times[kept++] = at;
          if (at > latest) latest = at;
        }
      }
      times.length = kept;
      times.push(time);
      entry.latest = latest;
      entry.cleanups = this.cleanups;
    }
    const last = this.queueTimes.length > this.head ? (this.queueTimes.at(-1) as number) : -Infinity;
    if (entry.latest < last) this.sorted = false;
    this.queue.push(entry);
    this.queueTimes.push(entry.latest);
    const count = entry.times.length;
    const decisions: Decision[] = [{ type: 'failure', time, src, count }];
    if (count >= this.options.maxRetry) {
      const offense = this.bans.offenses(src) + 1;
      // A repeat offender's ban doubles, as with fail2ban's bantime.increment.
      const until = time + Math.min(this.options.banTime * 2 ** (offense - 1), this.options.banTimeMax);
      this.bans.ban(src, until, offense);
      this.forget(entry);
      decisions.push({ type: 'banned', time, src, until, failures: count, offense });
    }
    return decisions;
  }

  // The failures `old` counted (a reload), but for addresses the whitelist now holds; the
  // next cleanup puts them in its queue.
  carryOver(old: FailureCounter): void {
    for (const entry of old.failures.values()) {
      if (!this.bans.exempt(entry.src)) this.failures.set(entry.src, { ...entry, times: [...entry.times] });
    }
    this.cleanups = old.cleanups;
    this.lastCleanup = old.lastCleanup;
    this.sorted = false;
  }

  // Forgets failures older than findtime (an address's times are trimmed when it fails
  // again), and the addresses that have no others.
  cleanup(now: number): void {
    const findTime = this.options.findTime;
    // Times from the log can step back: then the queue is made again, in order.
    if (!this.sorted) {
      const entries = [...this.failures.values()].sort((a, b) => a.latest - b.latest);
      this.queue = entries;
      this.queueTimes = entries.map((entry) => entry.latest);
      this.head = 0;
      this.sorted = true;
    }
    for (; this.head < this.queue.length; this.head++) {
      const entry = this.queue[this.head] as Failures;
      const latest = this.queueTimes[this.head] as number;
      // (A flag, not a lookup: this runs for every failure counted.)
      if (entry.removed || entry.latest !== latest) continue;
      if (now - latest <= findTime) break;
      this.forget(entry);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.queueTimes = this.queueTimes.slice(this.head);
      this.head = 0;
    }
    this.cleanups++;
    this.lastCleanup = Math.max(this.lastCleanup, now);
  }

  private forget(entry: Failures): void {
    this.failures.delete(entry.src);
    entry.removed = true;
  }
}
