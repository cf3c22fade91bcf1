import type { Decision } from '../engine/decisions.js';
import type { Network } from '../net/address.js';
import { WordNetworks } from '../engine/word-networks.js';
import { ownCopy } from '../engine/own-copy.js';

export interface SavedBan {
  src: string;
  until: number;
  offenses: number;
  // The fleet host that decided it (src/fleet/); absent for this host's own.
  origin?: string | undefined;
}

// An address's count of bans while it is not banned (a ban carries its own count).
export interface SavedOffenses {
  src: string;
  offenses: number;
}

// The most counts of unbanned addresses the state file keeps: it is written whole at every
// change and every few seconds while a log moves on, and this is about 0.5 MB of JSON at most.
export const MAX_SAVED_OFFENSES = 10_000;
// The most memory keeps, and an eighth more before it forgets down to them at once (chosen as
// the file chooses): addresses banned once, ever new ones for weeks, would grow it without end.
export const MAX_KEPT_OFFENSES = 100_000;

// The one place bans live: the failure counter writes them, the pipeline asks them before a
// knock reaches the engine, the firewall and the state file read them. A whitelisted
// address is never banned, whatever a failure count, a state file or an older config says.
export class BanStore {
  private readonly bans = new Map<string, number>();
  // Bans so far per address (kept after a ban ends: a repeat offender's ban doubles), the
  // latest banned last.
  private readonly offenseCounts = new Map<string, number>();
  // No ban ends before this (a ban lifted early can leave it lower): expire(), once a log
  // second, reads the bans only when one is due.
  private nextEnd = Infinity;
  private readonly origins = new Map<string, string>();

  // Asked for every new failing address: four words compared, no BigInt per address.
  private readonly whitelist: WordNetworks;

  constructor(whitelist: readonly Network[]) {
    this.whitelist = new WordNetworks(whitelist);
  }

  exempt(src: string): boolean {
    return this.whitelist.contains(src);
  }

  // Asked for every knock: with no ban at all, the address is not even hashed.
  bannedUntil(src: string, now: number): number | undefined {
    if (this.bans.size === 0) return undefined;
    const until = this.bans.get(src);
    return until !== undefined && until > now ? until : undefined;
  }

  offenses(src: string): number {
    return this.offenseCounts.get(src) ?? 0;
  }

  // Addresses with a count of bans in memory.
  get tracked(): number {
    return this.offenseCounts.size;
  }

  // Bans `src` until `until` as its `offenses`th ban; a whitelisted address stays unbanned.
  ban(src: string, until: number, offenses: number, origin?: string): void {
    if (this.exempt(src)) return;
    const kept = ownCopy(src);
    this.bans.set(kept, until);
    this.offenseCounts.delete(kept);
    this.offenseCounts.set(kept, offenses);
    if (this.offenseCounts.size - this.bans.size > MAX_KEPT_OFFENSES + MAX_KEPT_OFFENSES / 8) this.forgetOffenses();
    this.nextEnd = Math.min(this.nextEnd, until);
    if (origin === undefined) this.origins.delete(kept);
    else this.origins.set(kept, origin);
  }

  // Ends a ban now; false when the address was not banned.
  lift(src: string): boolean {
    this.origins.delete(src);
    return this.bans.delete(src);
  }

  // Ends the bans that ran out by `now`, each at its own time.
  expire(now: number): Decision[] {
    const decisions: Decision[] = [];
    if (now < this.nextEnd) return decisions;
    this.nextEnd = Infinity;
    for (const [src, until] of this.bans) {
      if (until <= now) {
        this.bans.delete(src);
        this.origins.delete(src);
        decisions.push({ type: 'unbanned', time: until, src });
      } else {
        this.nextEnd = Math.min(this.nextEnd, until);
      }
    }
    return decisions;
  }

  saved(): SavedBan[] {
    return [...this.bans].map(([src, until]) => {
      const origin = this.origins.get(src);
      return { src, until, offenses: this.offenseCounts.get(src) ?? 1, ...(origin === undefined ? {} : { origin }) };
    });
  }

  // The counts of addresses not banned now, the latest banned last; past MAX_SAVED_OFFENSES
  // the highest counts, the latest banned among equal ones. A flood of addresses banned once
  // then never pushes a repeat offender out, whose lost count would shorten its next ban most.
  savedOffenses(): SavedOffenses[] {
    return this.selectOffenses(MAX_SAVED_OFFENSES);
  }

  // At most `limit` counts of addresses not banned now, chosen as savedOffenses says.
  private selectOffenses(limit: number): SavedOffenses[] {
    const unbanned = [...this.offenseCounts].filter(([src]) => !this.bans.has(src));
    const least = unbanned.length <= limit ? 0 : leastKept(unbanned.map(([, offenses]) => offenses), limit);
    // How many of the count `least` still fit, taken from the latest banned back.
    let room = limit - unbanned.filter(([, offenses]) => offenses > least).length;
    const kept: SavedOffenses[] = [];
    for (let i = unbanned.length - 1; i >= 0; i--) {
      const [src, offenses] = unbanned[i] as [string, number];
      if (offenses > least || (offenses === least && room-- > 0)) kept.push({ src, offenses });
    }
    return kept.reverse();
  }

  // Down to MAX_KEPT_OFFENSES counts, chosen as the state file chooses, and those of addresses
  // banned now; in order.
  private forgetOffenses(): void {
    const kept = new Set(this.selectOffenses(MAX_KEPT_OFFENSES).map((saved) => saved.src));
    for (const src of this.offenseCounts.keys()) {
      if (!kept.has(src) && !this.bans.has(src)) this.offenseCounts.delete(src);
    }
  }

  // The counts of bans `old` kept (a reload), where this store has none yet.
  carryOffenses(old: BanStore): void {
    for (const [src, offenses] of old.offenseCounts) {
      if (!this.offenseCounts.has(src)) this.offenseCounts.set(src, offenses);
    }
  }

  restore(ban: SavedBan): void {
    this.ban(ban.src, ban.until, ban.offenses, ban.origin);
  }

  // Counts of bans that ended before a restart (validated: validate-state.ts), the latest
  // banned last; none for a whitelisted address, nor over the count a restored ban carries.
  restoreOffenses(saved: readonly SavedOffenses[]): void {
    for (const { src, offenses } of saved) {
      if (!this.offenseCounts.has(src) && !this.exempt(src)) this.offenseCounts.set(ownCopy(src), offenses);
    }
  }
}

// The lowest count among the `limit` highest of `counts` (more than that many).
function leastKept(counts: readonly number[], limit: number): number {
  const perCount = new Map<number, number>();
  for (const count of counts) perCount.set(count, (perCount.get(count) ?? 0) + 1);
  let taken = 0;
  for (const count of [...perCount.keys()].sort((a, b) => b - a)) {
    taken += perCount.get(count) as number;
    if (taken >= limit) return count;
  }
  return 0;
}

