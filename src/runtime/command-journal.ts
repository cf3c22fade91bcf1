import type { DaemonState, SavedGrant } from './state-file.js';

// What knockd's commands have done, kept in the state file: a grant is marked started before
// its start_command runs, and a closed grant stays pending until its stop_command has run.
// A crash between the two therefore never runs a start_command twice and never forgets a
// stop_command.
export class CommandJournal {
  private readonly started = new Set<string>();
  private readonly closing = new Map<string, SavedGrant>();

  constructor(saved: DaemonState) {
    for (const grant of saved.grants) if (grant.started === true) this.started.add(key(grant.src, grant.door));
    for (const grant of saved.pendingCloses) this.closing.set(key(grant.src, grant.door), grant);
  }

  wasStarted(src: string, door: string): boolean {
    return this.started.has(key(src, door));
  }

  markStarted(src: string, door: string): void {
    this.started.add(key(src, door));
  }

  // Its start_command never worked: there is nothing for a stop_command to undo.
  forgetStarted(src: string, door: string): void {
    this.started.delete(key(src, door));
  }

  isOwed(src: string, door: string): boolean {
    return this.closing.has(key(src, door));
  }

  // The grant is over; its stop_command is owed until closeDone.
  closeBegun(grant: SavedGrant): void {
    const k = key(grant.src, grant.door);
    if (!this.started.delete(k)) return;
    this.closing.set(k, { ...grant, started: true });
  }

  closeDone(src: string, door: string): void {
    this.closing.delete(key(src, door));
  }

  pendingCloses(): SavedGrant[] {
    return [...this.closing.values()];
  }

  withStarted(grant: SavedGrant): SavedGrant {
    return this.started.has(key(grant.src, grant.door)) ? { ...grant, started: true } : grant;
  }
}

function key(src: string, door: string): string {
  return `${src} ${door}`;
}
