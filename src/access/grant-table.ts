import type { Door, DoorStep } from '../config/types.js';
import type { CloseReason, Decision } from '../engine/decisions.js';
import { ownCopy } from '../engine/own-copy.js';

export interface Grant {
  src: string;
  door: string;
  ports: readonly DoorStep[];
  opened: number;
  // Infinity for a grant that lasts until closed.
  expires: number;
  // The fleet host that decided it (src/fleet/); absent for this host's own.
  origin?: string | undefined;
}

// Live grants, one per (address, door): a repeated knock extends, never duplicates.
export class GrantTable {
  private readonly grants = new Map<string, Grant>();
  // The earliest expiry, computed again only after a change: callers ask on every event.
  private earliest: number | undefined;

  get size(): number {
    return this.grants.size;
  }

  list(): Grant[] {
    return [...this.grants.values()];
  }

  forSource(src: string): Grant[] {
    return this.list().filter((grant) => grant.src === src);
  }

  nextExpiry(): number {
    if (this.earliest === undefined) {
      this.earliest = Infinity;
      for (const grant of this.grants.values()) this.earliest = Math.min(this.earliest, grant.expires);
    }
    return this.earliest;
  }

  find(src: string, door: string): Grant | undefined {
    return this.grants.get(grantKey(src, door));
  }

  // Opens a door's grant for an address, or extends the one it has.
  open(line: string, door: Door, time: number): Decision[] {
    const src = ownCopy(line);
    const expires = door.openFor === 0 ? Infinity : time + door.openFor;
    const existing = this.grants.get(grantKey(src, door.name));
    this.earliest = undefined;
    if (existing !== undefined) {
      // A knock stamped before the latest (log times can step back) takes no time away.
      existing.expires = Math.max(existing.expires, expires);
      // Knocked here too: this host's own grant from now on.
      if (existing.origin !== undefined) existing.origin = undefined;
      return [{ type: 'extend', time, src, door: door.name, expires: existing.expires }];
    }
    this.grants.set(grantKey(src, door.name), { src, door: door.name, ports: door.open, opened: time, expires });
    return [{ type: 'open', time, src, door: door.name, ports: door.open, expires }];
  }

  // `by`: a reason, or `{ door }` for a close door's knock.
  close(src: string, doorName: string, time: number, by: CloseReason | { door: string }): Decision[] {
    const key = grantKey(src, doorName);
    if (!this.grants.delete(key)) return [];
    this.earliest = undefined;
    return [typeof by === 'string' ? { type: 'close', time, src, door: doorName, by } : { type: 'close', time, src, door: doorName, by: by.door, byDoor: true }];
  }

  expire(now: number): Decision[] {
    const decisions: Decision[] = [];
    for (const [key, grant] of this.grants) {
      if (grant.expires <= now) {
        this.grants.delete(key);
        this.earliest = undefined;
        decisions.push({ type: 'expire', time: grant.expires, src: grant.src, door: grant.door });
      }
    }
    return decisions;
  }

  restore(grant: Grant): void {
    this.grants.set(grantKey(grant.src, grant.door), grant);
    this.earliest = undefined;
  }
}

function grantKey(src: string, door: string): string {
  return `${src} ${door}`;
}
