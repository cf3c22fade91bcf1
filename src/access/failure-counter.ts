import type { Options } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import type { BanStore } from './ban-store.js';
import { ownCopy } from '../engine/own-copy.js';

export type FailureOptions = Pick<Options, 'maxRetry' | 'findTime' | 'banTime' | 'banTimeMax'>;

// sshd login failures per address, fail2ban style: maxretry within findtime bans the address
// (in the ban store) for bantime, doubling per repeat up to bantime_max.
export class FailureCounter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly bans: BanStore, private readonly options: FailureOptions) {}

  // Addresses with failures on record.
  get size(): number {
    return this.failures.size;
  }

  count(src: string, time: number): Decision[] {
    if (this.bans.exempt(src)) return [];
    if (this.bans.bannedUntil(src, time) !== undefined) return [];
    const known = this.failures.get(src);
    const times = known?.filter((at) => time - at <= this.options.findTime) ?? [];
    times.push(time);
    this.failures.set(known === undefined ? ownCopy(src) : src, times);
    const decisions: Decision[] = [{ type: 'failure', time, src, count: times.length }];
    if (times.length >= this.options.maxRetry) {
      const offense = this.bans.offenses(src) + 1;
      // A repeat offender's ban doubles, as with fail2ban's bantime.increment.
      const until = time + Math.min(this.options.banTime * 2 ** (offense - 1), this.options.banTimeMax);
      this.bans.ban(src, until, offense);
      this.failures.delete(src);
      decisions.push({ type: 'banned', time, src, until, failures: times.length, offense });
    }
    return decisions;
  }

  // Forgets failures older than findtime.
  cleanup(now: number): void {
    for (const [src, times] of this.failures) {
      const recent = times.filter((time) => now - time <= this.options.findTime);
      if (recent.length === 0) this.failures.delete(src);
      else this.failures.set(src, recent);
    }
  }
}
