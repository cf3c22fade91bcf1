import type { Config } from '../config/types.js';
import { markUsedLine } from './one-time-file.js';
import { nextWindowTurn } from './rotating.js';
import { WindowLedger, type ClockBehind, type UsedWindow } from './window-ledger.js';

// What the live daemon's doors use up, kept for good: one-time lines are marked in their
// files, and rotating doors record into one ledger that outlives reloads and is saved in
// the state file (the windows once_per_window burnt, the latest window each door had as
// current). Replay and check use the config as it is: nothing written.
export class LiveDoors {
  private readonly windows: WindowLedger;

  // `recorded` runs after a window is burnt or a door's latest window moved on: the state
  // file is written then, before the grant. `clockBehind` is told when the clock went back.
  constructor(recorded: () => void, clockBehind?: ClockBehind) {
    this.windows = new WindowLedger(recorded, clockBehind);
  }

  // The config as the daemon's pipeline gets it.
  configFor(config: Config): Config {
    const doors = config.doors.map((door) => {
      const knock = door.knock;
      if (knock.kind === 'one-time') return { ...door, knock: { ...knock, mark: markUsedLine } };
      if (knock.kind === 'rotating') return { ...door, knock: { ...knock, records: this.windows } };
      return door;
    });
    return { ...config, doors };
  }

  // Takes the used and latest windows of a loaded state file; gives the state on.
  restore<T extends { usedWindows?: Record<string, UsedWindow[]> | undefined; latestWindows?: Record<string, number> | undefined }>(state: T): T {
    this.windows.restore(state.usedWindows);
    this.windows.restoreLatest(state.latestWindows);
    return state;
  }

  saved(now: number): Record<string, UsedWindow[]> {
    return this.windows.saved(now);
  }

  latestWindows(): Record<string, number> {
    return this.windows.latestWindows();
  }

  // When the firewall's knock ports change next under `config` (ms; Infinity: never).
  nextTurn(config: Config, now: number): number {
    return nextWindowTurn(config.doors, now);
  }
}
