import type { Config } from '../config/types.js';
import { samePosition, type LineSource, type SourcePosition } from '../sources/line-source.js';
import type { Clock } from './clock.js';
import { logEvents, type LogEvent } from './log-events.js';
import type { Pipeline } from './pipeline.js';
import type { RestoreResult } from './restore-state.js';
import { emptyState, loadState, saveState, type DaemonState } from './state-file.js';

// Source positions are written at most this often when nothing else changed.
export const POSITION_SAVE_EVERY = 5000;

// A rotating door's saved latest window at most this far (ms) after the host clock is the
// clock gone back while the daemon was down: kept, so the windows before it stay shut. One
// further ahead is a damaged or edited file: it would shut the door, the owner's knock
// included, until the clock got there, so it is dropped.
const LATEST_WINDOW_AHEAD = 86_400_000;

export type StateContent = Pick<DaemonState, 'grants' | 'bans' | 'offenses' | 'pendingCloses' | 'oneTimeUsed' | 'usedWindows' | 'latestWindows' | 'sessions' | 'logouts'>;

export interface StateKeeperDeps {
  // The state file of the config in force.
  path: () => string;
  clock: Clock;
  emit: (event: LogEvent) => void;
  // Everything to save besides the source positions, as it is now.
  content: () => StateContent;
  sources: () => readonly LineSource[];
}

// The state file: read once at start; written at the next tick after grants, bans or owed
// commands changed, and at most every POSITION_SAVE_EVERY when only a source moved on.
export class StateKeeper {
  private state: DaemonState = emptyState();
  private dirty = false;
  // A write of changed grants failed and has not worked since (said once).
  private failing = false;
  private lastSave = 0;

  constructor(private readonly deps: StateKeeperDeps) {}

  // Reads the state file, saying what of it cannot be used.
  load(): DaemonState {
    const path = this.deps.path();
    const loaded = loadState(path);
    if (loaded.problem) this.deps.emit(logEvents.stateUnreadable(path, loaded.problem));
    for (const warning of loaded.warnings) this.deps.emit(logEvents.stateEntryDropped(path, warning));
    this.state = loaded.state;
    const now = this.deps.clock.now();
    for (const [door, window] of Object.entries(this.state.latestWindows ?? {})) {
      if (window * 1000 - now <= LATEST_WINDOW_AHEAD) continue;
      delete this.state.latestWindows?.[door];
      this.deps.emit(logEvents.stateEntryDropped(path, `latestWindows[${JSON.stringify(door)}]: ${formatEpoch(window * 1000)} is more than a day after the host clock (${formatEpoch(now)}); dropped`));
    }
    return this.state;
  }

  // The loaded grants, bans, counts of bans, used one-time sequences, sshd sessions and logouts
  // waiting for logout_grace go into the pipeline; knocks older than the longest seq_timeout
  // are never acted on (a restart resuming an old position).
  restoreInto(pipeline: Pipeline, config: Config, now: number): RestoreResult {
    const restored = pipeline.restore(this.state.grants, this.state.bans, now);
    for (const warning of restored.warnings) this.deps.emit(logEvents.stateEntryDropped(this.deps.path(), warning));
    pipeline.restoreAccessState(this.state);
    pipeline.restoreOneTime(this.state.oneTimeUsed);
    pipeline.ignoreBefore = now - Math.max(0, ...config.doors.map((door) => door.seqTimeout));
    if (this.state.grants.length > 0) this.deps.emit(logEvents.restored(restored.kept, restored.dropped.length));
    return restored;
  }

  // Where a source stood when the state was last saved.
  positionOf(name: string): SourcePosition | undefined {
    return this.state.logs[name];
  }

  // Grants, bans, owed commands or sshd sessions changed: written at the next tick.
  changed(): void {
    this.dirty = true;
  }

  tick(now: number): void {
    if (this.dirty || (now - this.lastSave >= POSITION_SAVE_EVERY && this.positionsMoved())) this.save();
  }

  // Writes now; false when that failed. A failure is reported only when grants are at stake,
  // not for positions; then they stay changed, so each tick tries again until it works.
  save(): boolean {
    const path = this.deps.path();
    const logs = { ...this.state.logs };
    for (const source of this.deps.sources()) {
      const position = source.position();
      if (position !== undefined) logs[source.name] = position;
    }
    this.state = { version: 1, ...this.deps.content(), logs };
    this.lastSave = this.deps.clock.now();
    try {
      saveState(path, this.state);
    } catch (error) {
      if (this.dirty && !this.failing) this.deps.emit(logEvents.stateWriteFailed(path, (error as Error).message));
      this.failing ||= this.dirty;
      return false;
    }
    if (this.failing) this.deps.emit(logEvents.stateWrittenAgain(path));
    this.failing = false;
    this.dirty = false;
    return true;
  }

  private positionsMoved(): boolean {
    return this.deps.sources().some((source) => {
      const position = source.position();
      const saved = this.state.logs[source.name];
      return position !== undefined && (saved === undefined || !samePosition(saved, position));
    });
  }
}

// An ISO time, or the number for one past what Date can hold.
function formatEpoch(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms / 1000} s` : date.toISOString();
}
