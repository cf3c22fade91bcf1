// Records by (protocol, port) key (door-index.ts), read for every knock and for every
// first-step entry a cleanup decides: an array indexed by the key, where a Map would hash it
// each time. The array is as long as the highest key given: up to 256 KB for TCP ports, up to
// 512 KB with a UDP door, up to about 0.8 MB with an ICMP echo door (door-index.ts's key ranges).
export class KeyTable<T> {
  // Per key, the record's index in `records`; 0 (and past the end) is none.
  private readonly at: Int32Array;
  private readonly records: (T | undefined)[] = [undefined];

  constructor(entries: ReadonlyMap<number, T>) {
    let length = 0;
    for (const key of entries.keys()) length = Math.max(length, key + 1);
    this.at = new Int32Array(length);
    for (const [key, record] of entries) {
      this.at[key] = this.records.length;
      this.records.push(record);
    }
  }

  get(key: number): T | undefined {
    return this.records[this.at[key] ?? 0];
  }
}
