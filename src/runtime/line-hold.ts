import type { LineKind } from './source-list.js';

type Deliver = (lines: readonly string[], kind: LineKind) => void;

// While a reload installs its ruleset, lines wait here and time stands still, so every knock
// is decided by the config whose ruleset is in force.
export class LineHold {
  private holds = 0;
  private held: { lines: readonly string[]; kind: LineKind }[] = [];

  // `deliver` hands lines to the pipeline in force; nothing held is delivered once stopped.
  constructor(
    private readonly deliver: Deliver,
    private readonly stopped: () => boolean,
  ) {}

  get holding(): boolean {
    return this.holds > 0;
  }

  pass(lines: readonly string[], kind: LineKind): void {
    if (this.holds > 0) this.held.push({ lines: [...lines], kind });
    else this.deliver(lines, kind);
  }

  // Holds lines during `work`; then those that waited go on, in order.
  async during<T>(work: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      return await work();
    } finally {
      this.holds--;
      if (this.holds === 0 && !this.stopped()) for (const batch of this.held.splice(0)) this.deliver(batch.lines, batch.kind);
    }
  }
}
