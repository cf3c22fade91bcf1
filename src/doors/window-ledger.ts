import type { WindowRecords } from '../config/types.js';

// A window used by an address (once_per_window), as the state file keeps it.
export interface UsedWindow {
  src: string;
  window: number;
  until: number;
}

// The windows each address used, per door, until they are accepted no more. The daemon keeps
// one across reloads and saves it in the state file; a door without one keeps its own.
export class WindowLedger implements WindowRecords {
  private readonly used = new Map<string, Map<string, UsedWindow>>();

  // `recorded` runs after each burn: the daemon writes the state file then, before the
  // grant is applied, so a crash right after cannot revive the window.
  constructor(private readonly recorded: () => void = () => undefined) {}

  burnt(door: string, src: string, window: number): boolean {
    return this.used.get(door)?.has(`${src} ${window}`) ?? false;
  }

  burn(door: string, src: string, window: number, until: number): void {
    const entries = this.used.get(door) ?? new Map<string, UsedWindow>();
    entries.set(`${src} ${window}`, { src, window, until });
    this.used.set(door, entries);
    this.recorded();
  }

  // What is still worth keeping at `now`, per door; the rest is forgotten here too (it is
  // asked at every save), so memory follows the windows still accepted.
  saved(now: number): Record<string, UsedWindow[]> {
    const out: [string, UsedWindow[]][] = [];
    for (const [door, entries] of this.used) {
      for (const [key, entry] of entries) if (entry.until <= now) entries.delete(key);
      if (entries.size > 0) out.push([door, [...entries.values()]]);
      else this.used.delete(door);
    }
    return Object.fromEntries(out);
  }

  restore(saved: Record<string, readonly UsedWindow[]> = {}): void {
    for (const [door, entries] of Object.entries(saved)) {
      const kept = this.used.get(door) ?? new Map<string, UsedWindow>();
      for (const entry of entries) kept.set(`${entry.src} ${entry.window}`, { ...entry });
      this.used.set(door, kept);
    }
  }

  // Not part of a door's config: a reload compares doors by their JSON.
  toJSON(): undefined {
    return undefined;
  }
}
