import type { Door } from '../config/types.js';
import { createDoorKind } from './create-door-kind.js';
import type { DoorKind } from './door-kind.js';
import { OneTimeKind } from './one-time-kind.js';

// A configured door with the kind that decides what it accepts.
export interface KnockDoor {
  readonly door: Door;
  readonly kind: DoorKind;
}

// The doors of one config, each with its kind's state (one-time use).
export class DoorSet {
  readonly doors: readonly KnockDoor[];
  // Use counts of doors that are not one-time doors here (gone, or changed by a reload):
  // kept and saved again, so a door that comes back does not accept used sequences.
  private readonly carried = new Map<string, number>();

  constructor(doors: readonly Door[]) {
    this.doors = doors.map((door) => ({ door, kind: createDoorKind(door.knock) }));
  }

  // One-time sequences used so far, per door name.
  usedOneTime(): Record<string, number> {
    const used = new Map(this.carried);
    for (const { door, kind } of this.doors) if (kind instanceof OneTimeKind && kind.saved > 0) used.set(door.name, kind.saved);
    return Object.fromEntries(used);
  }

  restoreOneTime(used: Record<string, number>): void {
    for (const [name, count] of Object.entries(used)) {
      const kind = this.doors.find(({ door }) => door.name === name)?.kind;
      if (kind instanceof OneTimeKind) kind.restore(count);
      else this.carried.set(name, count);
    }
  }
}
