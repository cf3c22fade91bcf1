// Records by (protocol, port) key (door-index.ts), read for every knock and for every
// first-step entry a cleanup decides: an array indexed by the key, where a Map would hash it
// each time. The array is as long as the highest key given (TCP door ports alone: a few KB).
export class KeyTable<T> {
  // Record index + 1 per key, 0: none.
  private readonly at: Int32Array;
  private readonly records: T[] = [];

  constructor(entries: ReadonlyMap<number, T>) {
    let highest = -1;
    for (const key of entries.keys()) highest = Math.max(highest, key);
    this.at = new Int32Array(highest + 1);
    for (const [key, record] of entries) {
      this.records.push(record);
      this.at[key] = this.records.length;
    }
  }

  get(key: number): T | undefined {
    if (key >= this.at.length) return undefined;
    const at = this.at[key] as number;
    return at === 0 ? undefined : this.records[at - 1];
  }
}
