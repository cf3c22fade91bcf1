// Sends to a firewall channel, one batch in flight at a time: whatever arrives meanwhile goes
// next, as one batch (one transaction). `apply` settles each send of its batch.
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
      while (this.queued.length > 0) await this.apply(this.queued.splice(0));
    } finally {
      this.busy = false;
    }
  }
}
