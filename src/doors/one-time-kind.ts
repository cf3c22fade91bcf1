import type { DoorStep, MarkUsed } from '../config/types.js';
import type { DoorKind, Refusal, Sequence } from './door-kind.js';

// knockd's one_time_sequences: the first sequence not used yet is the only one accepted;
// completing it uses it up, for every source. With a `mark` (the live daemon), its line in
// the file is marked used before the door opens: the file is the record that outlives the
// state file, as in knockd.
export class OneTimeKind implements DoorKind {
  private usedCount = 0;
  // Used sequences whose line is not marked (the file could not be written): the state file
  // keeps their count, or a restart would expect them again.
  private unmarked = 0;

  constructor(
    private readonly sequences: readonly Sequence[],
    private readonly file?: string,
    private readonly mark?: MarkUsed,
  ) {}

  // How many used sequences the state file must keep: all of them when the sequences file is
  // not marked (replay), those whose line is not marked otherwise. They are always the first
  // of the sequences read: the file drops the marked ones.
  get saved(): number {
    return this.marking === undefined ? this.usedCount : this.unmarked;
  }

  // A count from the state file (or the pipeline a reload replaces): the first `used`
  // sequences are used. When the file is marked, their lines are marked now (a count
  // written before files were marked, or lines the file could not take then).
  restore(used: number): void {
    const marking = this.marking;
    if (marking !== undefined) {
      // A line that cannot be marked stays used in memory and counted: no start fails on it.
      for (const sequence of this.sequences.slice(this.usedCount, used)) {
        try {
          marking(sequence);
        } catch {
          this.unmarked++;
        }
      }
    }
    this.usedCount = Math.max(this.usedCount, used);
  }

  expected(): readonly Sequence[] {
    const next = this.sequences[this.usedCount];
    return next === undefined ? [] : [next];
  }

  steps(): readonly DoorStep[] {
    return this.sequences.flat();
  }

  // Only the sequence still due counts: two sources that knocked it together (one of them
  // replaying what it saw) do not both open, and the next sequence is not burnt. A sequence
  // whose line cannot be marked is used up and opens nothing: a restart must not revive it,
  // and a grant the file does not record could be knocked again after one.
  completed(sequence: Sequence): Refusal | undefined {
    if (sequence !== this.sequences[this.usedCount]) return 'used';
    this.usedCount++;
    try {
      this.marking?.(sequence);
    } catch {
      this.unmarked++;
      return 'unmarked';
    }
    return undefined;
  }

  private get marking(): ((sequence: Sequence) => void) | undefined {
    const { file, mark } = this;
    return file === undefined || mark === undefined ? undefined : (sequence) => mark(file, sequence);
  }
}
