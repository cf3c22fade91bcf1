// A Map whose oldest entry (the key set longest ago) is found in constant time. A Map's own
// first key is not: once its oldest entries are deleted, iterating it walks past every deleted
// slot until the table is rebuilt, and a table kept at a cap by deleting its oldest key on
// each insert spent ~10 µs an insert at 20,000 entries (a flood of sshd connections, each a
// new pid). Here the keys are also kept in a queue, in the order they were set; a queued key
// whose value is no longer the one it was queued with is skipped, so each set takes a value
// object never set before (every caller builds a new one). Iteration is the Map's.
export class AgingMap<K, V extends object> {
  private readonly entries = new Map<K, V>();
  private queuedKeys: K[] = [];
  private queuedValues: V[] = [];
  private head = 0;

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  // `key` becomes the newest entry, whether it was there before or not.
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.queue(key, value);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  // The key set longest ago, or undefined when empty.
  oldestKey(): K | undefined {
    while (this.head < this.queuedKeys.length) {
      const key = this.queuedKeys[this.head] as K;
      if (this.entries.get(key) === this.queuedValues[this.head]) return key;
      this.head++;
    }
    return undefined;
  }

  // Oldest first, as a Map's.
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries[Symbol.iterator]();
  }

  values(): IterableIterator<V> {
    return this.entries.values();
  }

  private queue(key: K, value: V): void {
    this.queuedKeys.push(key);
    this.queuedValues.push(value);
    // Deleted, replaced and passed entries leave their places behind: past twice the live
    // ones, the queue is made again from the Map (its order is the same).
    if (this.queuedKeys.length > 2 * this.entries.size + 1024) this.requeue();
  }

  private requeue(): void {
    this.queuedKeys = [...this.entries.keys()];
    this.queuedValues = [...this.entries.values()];
    this.head = 0;
  }
}
