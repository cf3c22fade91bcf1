import type { Options } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import type { BanStore } from './ban-store.js';
import { ownCopy } from '../engine/own-copy.js';

export type FailureOptions = Pick<Options, 'maxRetry' | 'findTime' | 'banTime' | 'banTimeMax'>;

interface Failures {
  // The address as kept (an own copy, not a slice of a log chunk).
  src: string;
  times: number[];
  // The latest of `times`.
  latest: number;
  // Cleanups run when `times` was last trimmed: the ones since then still have to drop its
  // old times, and the latest of them drops all a missed one would have.
  cleanups: number;
}

// sshd login failures per address, fail2ban style: maxretry within findtime bans the address
// (in the ban store) for bantime, doubling per repeat up to bantime_max.
export class FailureCounter {
  // Ordered by `latest` (while `sorted`): a cleanup stops at the first address it keeps
  // rather than reading every address once per log second.
  private readonly failures = new Map<string, Failures>();
  private sorted = true;
  private lastLatest = -Infinity;
  private cleanups = 0;
  private lastCleanup = -Infinity;

  constructor(private readonly bans: BanStore, private readonly options: FailureOptions) {}

  // Addresses with failures on record.
  get size(): number {
    return this.failures.size;
  }

  count(src: string, time: number): Decision[] {
    if (this.bans.exempt(src)) return [];
    if (this.bans.bannedUntil(src, time) !== undefined) return [];
    const findTime = this.options.findTime;
    const known = this.failures.get(src);
    let entry: Failures;
    if (known === undefined) {
      entry = { src: ownCopy(src), times: [time], latest: time, cleanups: this.cleanups };
    } else {
      const cleanedUp = known.cleanups < this.cleanups;
      const times: number[] = [];
      for (const at of known.times) {
        if (time - at <= findTime && !(cleanedUp && this.lastCleanup - at > findTime)) times.push(at);
      }
      times.push(time);
      entry = known;
      entry.times = times;
      entry.latest = Math.max(...times);
      entry.cleanups = this.cleanups;
      this.failures.delete(src);
    }
    this.failures.set(entry.src, entry);
    if (entry.latest < this.lastLatest) this.sorted = false;
    else this.lastLatest = entry.latest;
    const count = entry.times.length;
    const decisions: Decision[] = [{ type: 'failure', time, src, count }];
    if (count >= this.options.maxRetry) {
      const offense = this.bans.offenses(src) + 1;
      // A repeat offender's ban doubles, as with fail2ban's bantime.increment.
      const until = time + Math.min(this.options.banTime * 2 ** (offense - 1), this.options.banTimeMax);
      this.bans.ban(src, until, offense);
      this.failures.delete(src);
      decisions.push({ type: 'banned', time, src, until, failures: count, offense });
    }
    return decisions;
  }

  // Forgets failures older than findtime (an address's times are trimmed when it fails
  // again), and the addresses that have no others.
  cleanup(now: number): void {
    const findTime = this.options.findTime;
    // Times from the log can step back: then the order is made again.
    if (!this.sorted) {
      const entries = [...this.failures.values()].sort((a, b) => a.latest - b.latest);
      this.failures.clear();
      for (const entry of entries) this.failures.set(entry.src, entry);
      this.sorted = true;
      this.lastLatest = entries.at(-1)?.latest ?? -Infinity;
    }
    for (const [src, entry] of this.failures) {
      if (now - entry.latest <= findTime) break;
      this.failures.delete(src);
    }
    this.cleanups++;
    this.lastCleanup = Math.max(this.lastCleanup, now);
  }
}
