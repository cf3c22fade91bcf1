import type { DoorStep } from '../config/types.js';

export type Sequence = readonly DoorStep[];

// What one kind of door expects of a knocking source. The engine, the door index, the
// firewall plan and `check` ask this, never a door's config fields, so a new kind
// (time-rotating, secret-derived) is one more implementation here.
export interface DoorKind {
  // The sequences the door accepts from `src` at `time`; none when it opens no more.
  expected(src: string, time: number): readonly Sequence[];
  // Every step the door may ever expect: the firewall's LOG rules and the engine's pre-filter.
  steps(): readonly DoorStep[];
  // `src` completed `sequence` at `time`: what that uses up. False when the sequence was no
  // longer one the door accepts (used up meanwhile by another source): it opens nothing.
  completed(sequence: Sequence, src: string, time: number): boolean;
}
