import type { WindowRecords } from '../config/types.js';

// A window used by an address (once_per_window), as the state file keeps it.
export interface UsedWindow {
  src: string;
  window: number;
  until: number;
}

// Told once when a knock's time puts a door `behind` windows before the latest it had as
// current (the clock went back), until the clock is past that window again.
export type ClockBehind = (door: string, window: number, latest: number) => void;

// The windows each address used, per door, until they are accepted no more, and the latest
// window each door had as current. The daemon keeps one across reloads and saves it in the
// state file; a door without one keeps its own.
export class WindowLedger implements WindowRecords {
  private readonly used = new Map<string, Map<string, UsedWindow>>();
  private readonly latest = new Map<string, number>();
  // Doors already told about (see ClockBehind).
  private readonly behind = new Set<string>();

  // `recorded` runs after each burn and each new latest window: the daemon writes the state
  // file then, before the grant is applied, so a crash right after cannot revive the window.
  constructor(private readonly recorded: () => void = () => undefined, private readonly clockBehind: ClockBehind = () => undefined) {}

  // The latest window is kept as the moment it began, whatever `rotate` it had: a reload or a
  // restart that changes `rotate` compares with the window of the new rotate that holds that
  // moment (the clock has been in it), never with the old window's start, which the new
  // windows do not share. The moment itself is kept, so changing `rotate` back revives nothing.
  current(door: string, window: number, rotate: number): number {
    const saved = this.latest.get(door);
    if (saved === undefined || window > saved) {
      this.latest.set(door, window);
      this.behind.delete(door);
      this.recorded();
      return window;
    }
    const latest = Math.floor(saved / rotate) * rotate;
    if (window < latest && !this.behind.has(door)) {
      this.behind.add(door);
      this.clockBehind(door, window, latest);
    }
    return latest;
  }

  // The latest window each door had as current, for the state file.
  latestWindows(): Record<string, number> {
    return Object.fromEntries(this.latest);
  }

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

  // A saved latest window never moves a door's back (a reload keeps the ledger).
  restoreLatest(saved: Record<string, number> = {}): void {
    for (const [door, window] of Object.entries(saved)) this.latest.set(door, Math.max(window, this.latest.get(door) ?? window));
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
