import type { SavedBan } from '../access/ban-store.js';
import type { Grant } from '../access/grant-table.js';
import { checkMessage, type FleetMessage, type MessageContext } from './fleet-message.js';

// Where remote grants and bans go: this host's grants and bans, and its firewall through
// the same synchronisation as its own decisions (src/fleet/daemon-fleet.ts).
export interface FleetTarget {
  grant(src: string, door: string): Grant | undefined;
  grants(): Grant[];
  bans(): SavedBan[];
  // Whitelisted: never banned.
  exempt(src: string): boolean;
  // In force from now (opens or extends the firewall's entry), tagged with its origin.
  openGrant(grant: Grant, extend: boolean): void;
  closeGrant(src: string, door: string): void;
  ban(ban: SavedBan): void;
  unban(src: string): void;
}

export interface FleetCounts {
  applied: number;
  // Valid, but nothing to do (own message, already known, banned here, whitelisted, over).
  ignored: number;
  refused: number;
}

// Applies the group's messages and key snapshots to this host. Its own bans win over a
// remote grant, the whitelist over a remote ban, the later end over the earlier. A close or
// unban is announced only for what an admin or a close door ended, and ends it here too;
// a rebuild ends only what another host decided and the group's keys no longer hold.
export class FleetApplier {
  readonly counts: FleetCounts = { applied: 0, ignored: 0, refused: 0 };

  constructor(
    private readonly target: FleetTarget,
    private readonly name: string,
    private readonly context: (now: number) => MessageContext,
    private readonly refused: (reason: string) => void,
  ) {}

  // One message from the group's stream.
  receive(text: unknown, now: number): void {
    const message = this.check(text, now);
    if (message !== undefined) this.apply(message, now);
  }

  // The values of every key of the group: remote grants and bans no longer among them end,
  // the others are applied. Returns the valid ones (this host's own among them).
  rebuild(texts: readonly unknown[], now: number): FleetMessage[] {
    const messages = texts.map((text) => this.check(text, now)).filter((message) => message !== undefined);
    const grants = new Set<string>();
    const bans = new Set<string>();
    for (const message of messages) {
      if (message.kind === 'grant') grants.add(`${message.src} ${message.door}`);
      if (message.kind === 'ban') bans.add(message.src);
    }
    for (const grant of this.target.grants()) {
      if (grant.origin !== undefined && !grants.has(`${grant.src} ${grant.door}`)) this.target.closeGrant(grant.src, grant.door);
    }
    for (const ban of this.target.bans()) {
      if (ban.origin !== undefined && !bans.has(ban.src)) this.target.unban(ban.src);
    }
    for (const message of messages) this.apply(message, now);
    return messages;
  }

  private check(text: unknown, now: number): FleetMessage | undefined {
    const checked = checkMessage(text, this.context(now));
    if (checked.ok) return checked.message;
    this.counts.refused++;
    this.refused(checked.reason);
    return undefined;
  }

  private apply(message: FleetMessage, now: number): void {
    const applied = message.origin !== this.name && this.applyOther(message, now);
    if (applied) this.counts.applied++;
    else this.counts.ignored++;
  }

  private applyOther(message: FleetMessage, now: number): boolean {
    const { target } = this;
    switch (message.kind) {
      case 'grant': {
        const expires = message.expires ?? Infinity;
        if (expires <= now || target.bans().some((ban) => ban.src === message.src && ban.until > now)) return false;
        const existing = target.grant(message.src, message.door);
        if (existing !== undefined && existing.expires >= expires) return false;
        target.openGrant({ src: message.src, door: message.door, ports: [], opened: now, expires, origin: message.origin }, existing !== undefined);
        return true;
      }
      // A close door knocked or an admin's close elsewhere: the grant ends here too.
      case 'close':
        if (target.grant(message.src, message.door) === undefined) return false;
        target.closeGrant(message.src, message.door);
        return true;
      case 'ban': {
        if (message.until <= now || target.exempt(message.src)) return false;
        const existing = target.bans().find((ban) => ban.src === message.src);
        if (existing !== undefined && existing.until >= message.until) return false;
        target.ban({ src: message.src, until: message.until, offenses: existing?.offenses ?? 1, origin: message.origin });
        return true;
      }
      // An admin's unban elsewhere.
      case 'unban':
        if (!target.bans().some((ban) => ban.src === message.src)) return false;
        target.unban(message.src);
        return true;
    }
  }
}
