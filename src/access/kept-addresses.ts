import { ownCopy } from '../engine/own-copy.js';

// At most this many addresses are remembered; past it the table starts again, empty.
export const MAX_KEPT_ADDRESSES = 20_000;

// Own copies (own-copy.ts) of the addresses sshd lines named lately: an address that comes
// back (a brute-forcer's, connection after connection) is copied once, not per connection.
// A copy is a round trip through a Buffer; a lookup hashes a short string.
export class KeptAddresses {
  private readonly copies = new Map<string, string>();

  get size(): number {
    return this.copies.size;
  }

  // `src` as a string of its own, the same one for every equal address while remembered.
  keep(src: string): string {
    let kept = this.copies.get(src);
    if (kept === undefined) {
      if (this.copies.size >= MAX_KEPT_ADDRESSES) this.copies.clear();
      kept = ownCopy(src);
      this.copies.set(kept, kept);
    }
    return kept;
  }
}
