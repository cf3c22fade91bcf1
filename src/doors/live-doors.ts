import type { Config } from '../config/types.js';
import { markUsedLine } from './one-time-file.js';
import { nextWindowTurn } from './rotating.js';
import { WindowLedger, type UsedWindow } from './window-ledger.js';

// What the live daemon's doors use up, kept for good: one-time lines are marked in their
// files, and once_per_window doors record into one ledger that outlives reloads and is
// saved in the state file. Replay and check use the config as it is: nothing written.
export class LiveDoors {
  private readonly windows: WindowLedger;

  // `recorded` runs after a window is burnt: the state file is written then, before the grant.
  constructor(recorded: () => void) {
    this.windows = new WindowLedger(recorded);
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

  // Takes the used windows of a loaded state file; gives the state on.
  restore<T extends { usedWindows?: Record<string, UsedWindow[]> | undefined }>(state: T): T {
    this.windows.restore(state.usedWindows);
    return state;
  }

  saved(now: number): Record<string, UsedWindow[]> {
    return this.windows.saved(now);
  }

  // When the firewall's knock ports change next under `config` (ms; Infinity: never).
  nextTurn(config: Config, now: number): number {
    return nextWindowTurn(config.doors, now);
  }
}
