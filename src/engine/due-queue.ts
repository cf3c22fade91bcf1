// Items by the time they are due: a binary min-heap. An item may be in it more than once, or
// after it is gone: whoever takes items decides which of them still count.
export class DueQueue<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.times.length;
  }

  // When the first item is due (Infinity when there is none).
  get nextTime(): number {
    return this.times[0] ?? Infinity;
  }

  push(time: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let at = times.length;
    times.push(time);
    items.push(item);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const parentTime = times[parent] as number;
      if (parentTime <= time) break;
      times[at] = parentTime;
      items[at] = items[parent] as T;
      at = parent;
    }
    times[at] = time;
    items[at] = item;
  }

  // Takes out every item due at `now` (its time <= now), in no particular order.
  takeDue(now: number): T[] {
    const due: T[] = [];
    while (this.times.length > 0 && (this.times[0] as number) <= now) due.push(this.popFirst());
    return due;
  }

  private popFirst(): T {
    const times = this.times;
    const items = this.items;
    const first = items[0] as T;
    const lastTime = times.pop() as number;
    const lastItem = items.pop() as T;
    const size = times.length;
    if (size === 0) return first;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && (times[child + 1] as number) < (times[child] as number)) child++;
      if ((times[child] as number) >= lastTime) break;
      times[at] = times[child] as number;
      items[at] = items[child] as T;
      at = child;
    }
    times[at] = lastTime;
    items[at] = lastItem;
    return first;
  }
}
