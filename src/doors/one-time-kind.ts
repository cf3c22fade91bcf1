import type { DoorStep } from '../config/types.js';
import type { DoorKind, Sequence } from './door-kind.js';

// knockd's one_time_sequences: the first sequence not used yet is the only one accepted;
// completing it uses it up, for every source.
export class OneTimeKind implements DoorKind {
  private usedCount = 0;

  constructor(private readonly sequences: readonly Sequence[]) {}

  // How many sequences are used up (persisted: a used sequence never opens again).
  get used(): number {
    return this.usedCount;
  }

  restore(used: number): void {
    this.usedCount = used;
  }

  expected(): readonly Sequence[] {
    const next = this.sequences[this.usedCount];
    return next === undefined ? [] : [next];
  }

  steps(): readonly DoorStep[] {
    return this.sequences.flat();
  }

  // Only the sequence still due counts: two sources that knocked it together (one of them
  // replaying what it saw) do not both open, and the next sequence is not burnt.
  completed(sequence: Sequence): boolean {
    if (sequence !== this.sequences[this.usedCount]) return false;
    this.usedCount++;
    return true;
  }
}
