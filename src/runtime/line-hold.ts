import type { LineKind } from './source-list.js';

type Deliver = (lines: readonly string[], kind: LineKind) => void;

// While a reload installs its ruleset, lines wait here and time stands still, so every knock
// is decided by the config whose ruleset is in force.
export class LineHold {
  private holds = 0;
  private held: { lines: readonly string[]; kind: LineKind }[] = [];
  private waiting: (() => void)[] = [];

  // `deliver` hands lines to the pipeline in force. The saved log positions count held lines
  // as read, so they are delivered even after a stop began; only a halt (a crash) drops them.
  constructor(
    private readonly deliver: Deliver,
    private readonly halted: () => boolean,
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
      if (this.holds === 0) {
        const held = this.held.splice(0);
        if (!this.halted()) for (const batch of held) this.deliver(batch.lines, batch.kind);
        for (const resolve of this.waiting.splice(0)) resolve();
      }
    }
  }

  // Resolves once nothing is held: at once, or when the work holding lines ended and they went on.
  async released(): Promise<void> {
    if (this.holds === 0) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}
