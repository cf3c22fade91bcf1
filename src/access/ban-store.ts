import type { Decision } from '../engine/decisions.js';
import { dottedQuadValue, networkContains, type Network } from '../net/address.js';
import { ownCopy } from '../engine/own-copy.js';

export interface SavedBan {
  src: string;
  until: number;
  offenses: number;
}

// The one place bans live: the failure counter writes them, the pipeline asks them before a
// knock reaches the engine, the firewall and the state file read them. A whitelisted
// address is never banned, whatever a failure count, a state file or an older config says.
export class BanStore {
  private readonly bans = new Map<string, number>();
  // Bans so far per address (kept after a ban ends: a repeat offender's ban doubles).
  private readonly offenseCounts = new Map<string, number>();
  // No ban ends before this (a ban lifted early can leave it lower): expire(), once a log
  // second, reads the bans only when one is due.
  private nextEnd = Infinity;

  // The whitelist's networks as numbers (IPv4 ranges, IPv6 16-bit groups and their masks):
  // asked for every new failing address, where the generic test turns it into a BigInt.
  private readonly ipv4Ranges: readonly { first: number; last: number }[];
  private readonly ipv6Masks: readonly { groups: number[]; masks: number[] }[];

  constructor(private readonly whitelist: readonly Network[]) {
    this.ipv4Ranges = whitelist.filter((network) => network.family === 4)
      .map((network) => ({ first: Number(network.bits), last: Number(network.bits) + 2 ** (32 - network.prefix) - 1 }));
    this.ipv6Masks = whitelist.filter((network) => network.family === 6).map((network) => ({
      groups: Array.from({ length: 8 }, (_, g) => Number((network.bits >> BigInt(112 - 16 * g)) & 0xffffn)),
      masks: Array.from({ length: 8 }, (_, g) => (0xffff << (16 - Math.min(16, Math.max(0, network.prefix - 16 * g)))) & 0xffff),
    }));
  }

  exempt(src: string): boolean {
    const value = dottedQuadValue(src);
    if (value !== -1) return this.ipv4Ranges.some((range) => value >= range.first && value <= range.last);
    const groups = hexGroups(src);
    if (groups !== undefined) return this.ipv6Masks.some((network) => network.masks.every((mask, g) => ((groups[g] as number) & mask) === network.groups[g]));
    return this.whitelist.some((network) => networkContains(network, src));
  }

  bannedUntil(src: string, now: number): number | undefined {
    const until = this.bans.get(src);
    return until !== undefined && until > now ? until : undefined;
  }

  offenses(src: string): number {
    return this.offenseCounts.get(src) ?? 0;
  }

  // Bans `src` until `until` as its `offenses`th ban; a whitelisted address stays unbanned.
  ban(src: string, until: number, offenses: number): void {
    if (this.exempt(src)) return;
    const kept = ownCopy(src);
    this.bans.set(kept, until);
    this.offenseCounts.set(kept, offenses);
    this.nextEnd = Math.min(this.nextEnd, until);
  }

  // Ends a ban now; false when the address was not banned.
  lift(src: string): boolean {
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
        decisions.push({ type: 'unbanned', time: until, src });
      } else {
        this.nextEnd = Math.min(this.nextEnd, until);
      }
    }
    return decisions;
  }

  saved(): SavedBan[] {
    return [...this.bans].map(([src, until]) => ({ src, until, offenses: this.offenseCounts.get(src) ?? 1 }));
  }

  restore(ban: SavedBan): void {
    this.ban(ban.src, ban.until, ban.offenses);
  }
}

// The eight groups of an IPv6 address written as hex groups with at most one `::` (as
// knockwatch keeps addresses), or undefined for any other text.
function hexGroups(text: string): number[] | undefined {
  const gap = text.indexOf('::');
  if (gap !== -1 && text.includes('::', gap + 1)) return undefined;
  const head = readHexGroups(gap === -1 ? text : text.slice(0, gap));
  const tail = gap === -1 ? [] : readHexGroups(text.slice(gap + 2));
  if (head === undefined || tail === undefined) return undefined;
  const zeros = 8 - head.length - tail.length;
  if (gap === -1 ? zeros !== 0 : zeros < 1) return undefined;
  return [...head, ...new Array<number>(zeros).fill(0), ...tail];
}

function readHexGroups(text: string): number[] | undefined {
  const groups: number[] = [];
  if (text === '') return groups;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 58 : text.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (digit !== -1 && digits < 4) {
      value = value * 16 + digit;
      digits++;
    } else if (c === 58 && digits > 0) {
      groups.push(value);
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return groups;
}
