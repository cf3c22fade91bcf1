import type { DaemonState, SavedGrant } from './state-file.js';

// What knockd's commands have done, kept in the state file: a grant is marked started before
// its start_command runs (with the stop_command that undoes it), and a closed grant stays
// pending until that stop_command has run. A crash between the two therefore never runs a
// start_command twice and never forgets a stop_command; a changed config never swaps it.
export class CommandJournal {
  // Started grants and their stop_command (undefined: the door's, as the config says now).
  private readonly started = new Map<string, string | undefined>();
  private readonly closing = new Map<string, SavedGrant>();

  constructor(saved: DaemonState) {
    for (const grant of saved.grants) if (grant.started === true) this.started.set(key(grant.src, grant.door), grant.stop);
    for (const grant of saved.pendingCloses) this.closing.set(key(grant.src, grant.door), grant);
  }

  wasStarted(src: string, door: string): boolean {
    return this.started.has(key(src, door));
  }

  markStarted(src: string, door: string, stop: string | undefined): void {
    this.started.set(key(src, door), stop);
  }

  // The stop_command recorded for the grant, owed or started; undefined: the door's.
  stopFor(src: string, door: string): string | undefined {
    const k = key(src, door);
    return this.closing.get(k)?.stop ?? this.started.get(k);
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
    if (!this.started.has(k)) return;
    this.closing.set(k, this.withStarted(grant));
    this.started.delete(k);
  }

  closeDone(src: string, door: string): void {
    this.closing.delete(key(src, door));
  }

  pendingCloses(): SavedGrant[] {
    return [...this.closing.values()];
  }

  withStarted(grant: SavedGrant): SavedGrant {
    const k = key(grant.src, grant.door);
    if (!this.started.has(k)) return grant;
    const stop = this.started.get(k);
    return stop === undefined ? { ...grant, started: true } : { ...grant, started: true, stop };
  }
}

function key(src: string, door: string): string {
  return `${src} ${door}`;
}
