import type { DoorStep } from '../config/types.js';
import type { DoorKind, Sequence } from './door-kind.js';

// One sequence, the same for every source at every time (knockd's `sequence`).
export class StaticKind implements DoorKind {
  constructor(private readonly sequence: Sequence) {}

  expected(): readonly Sequence[] {
    return [this.sequence];
  }

  steps(): readonly DoorStep[] {
    return this.sequence;
  }

  completed(): undefined {
    return undefined;
  }
}
