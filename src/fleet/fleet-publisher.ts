import type { FleetKinds } from '../config/fleet-options.js';
import type { Door } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import type { FleetMessage } from './fleet-message.js';

// How long after its latest possible end a grant's key is taken to be gone from the group:
// room for clocks that differ (src/fleet/fleet-message.ts allows 5 s) and more.
const KEY_END_MARGIN = 60_000;

// Which of this host's decisions the group hears of: opens and extensions of a door shared
// with the fleet, closes by a close door or an admin, bans, and unbans before their time.
// Expiries are not announced (the key expires by itself), nor what ends only here (a
// logout, a revocation, a grant the firewall did not take), except for a grant until closed.
export class FleetPublisher {
  // Bans in force here and when they end: an unban at its end is an expiry.
  private readonly banEnds = new Map<string, number>();
  // This host's grants that ended here only (`door src`): the group's key keeps them until
  // their end, and a rebuild must not close them there (endedHereAmong). Each with the time
  // its key has surely ended by, when it is forgotten.
  private endedHere = new Map<string, number>();
  private quiet = false;

  constructor(
    private readonly name: string,
    private readonly publish: FleetKinds,
    private readonly doors: () => ReadonlyMap<string, Door>,
  ) {}

  // Runs `work` (applying the group's messages) without announcing what it decides.
  silently<T>(work: () => T): T {
    this.quiet = true;
    try {
      return work();
    } finally {
      this.quiet = false;
    }
  }

  // A ban known here that this host did not decide (applied from the group).
  knowBan(src: string, until: number): void {
    this.banEnds.set(src, until);
  }

  messageFor(decision: Decision): FleetMessage | undefined {
    if (decision.type === 'banned') this.banEnds.set(decision.src, decision.until);
    const until = decision.type === 'unbanned' ? this.banEnds.get(decision.src) : undefined;
    if (decision.type === 'unbanned') this.banEnds.delete(decision.src);
    if (this.quiet) return undefined;
    const origin = this.name;
    switch (decision.type) {
      case 'open':
      case 'extend':
        this.endedHere.delete(`${decision.door} ${decision.src}`);
        if (!this.shared(decision.door)) return undefined;
        return { kind: 'grant', src: decision.src, door: decision.door, expires: Number.isFinite(decision.expires) ? Math.round(decision.expires) : null, origin };
      case 'close': {
        if (!this.shared(decision.door)) return undefined;
        const openFor = this.doors().get(decision.door)?.openFor ?? 0;
        // A grant until closed is closed in the group whatever ended it here: its key never
        // ends, and no other host's clock ends its copy.
        if (decision.byDoor !== true && decision.by !== 'admin' && openFor > 0) {
          this.endedHereAt(`${decision.door} ${decision.src}`, decision.time, openFor);
          return undefined;
        }
        return { kind: 'close', src: decision.src, door: decision.door, origin };
      }
      case 'banned':
        return this.publish.bans ? { kind: 'ban', src: decision.src, until: Math.round(decision.until), origin } : undefined;
      case 'unbanned':
        return this.publish.bans && until !== undefined && decision.time < until ? { kind: 'unban', src: decision.src, origin } : undefined;
      default:
        return undefined;
    }
  }

  // Of this host's grants the group's keys hold (`door src`), those that ended here only:
  // their keys stay until they end. What the keys no longer hold is forgotten.
  endedHereAmong(stored: readonly string[]): ReadonlySet<string> {
    const kept = new Set(stored);
    this.endedHere = new Map([...this.endedHere].filter(([key]) => kept.has(key)));
    return new Set(this.endedHere.keys());
  }

  // A grant that ended here at `time`: its key ends at the latest a door's open_for (> 0)
  // after that (an extension reaches no further; a remote one that became this host's own, or
  // Redis's clock, a little further). Those whose key has ended by now are forgotten, so the
  // list does not grow with every logout between two rebuilds.
  private endedHereAt(key: string, time: number, openFor: number): void {
    for (const [ended, until] of this.endedHere) if (until <= time) this.endedHere.delete(ended);
    this.endedHere.set(key, time + openFor + KEY_END_MARGIN);
  }

  private shared(door: string): boolean {
    return this.publish.grants && this.doors().get(door)?.fleet === true;
  }
}
