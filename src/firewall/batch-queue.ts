// Sends to a firewall channel, one batch in flight at a time: whatever arrives meanwhile goes
// next, as one batch (one transaction). `apply` settles each send of its batch; should it
// throw or reject, the sends it left unsettled fail with that error instead of waiting forever.
export interface Pending<T> {
  changes: T;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class BatchQueue<T> {
  private queued: Pending<T>[] = [];
  private busy = false;

  constructor(private readonly apply: (batch: Pending<T>[]) => Promise<void>) {}

  // Resolves when the changes are in force, rejects with the error for them.
  send(changes: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ changes, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued.splice(0);
        try {
          await this.apply(batch);
        } catch (error) {
          // Settling a send twice does nothing: the ones apply settled keep their outcome.
          for (const pending of batch) pending.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
