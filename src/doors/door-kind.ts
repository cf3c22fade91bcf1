import type { DoorStep } from '../config/types.js';

export type Sequence = readonly DoorStep[];

// Why a door opens nothing for a sequence a source has just completed (only the door knows,
// and only then): a one-time sequence another source `used` first, or whose line its file could
// not take (`unmarked`); a rotating window accepted no more (`window-gone`: it turned out of
// skew while the source knocked) or already used by the source (`window-used`, once_per_window).
export type Refusal = 'used' | 'unmarked' | 'window-gone' | 'window-used';

// What one kind of door expects of a knocking source. The engine, the door index, the
// firewall plan and `check` ask this, never a door's config fields, so a new kind
// (time-rotating, secret-derived) is one more implementation here.
export interface DoorKind {
  // The sequences the door accepts from `src` at `time`; none when it opens no more.
  expected(src: string, time: number): readonly Sequence[];
  // Every step the door may ever expect: the firewall's LOG rules and the engine's pre-filter.
  steps(): readonly DoorStep[];
  // `src` completed `sequence` at `time`: uses up what that uses up, and says why the door
  // opens nothing (undefined: it opens).
  completed(sequence: Sequence, src: string, time: number): Refusal | undefined;
}
