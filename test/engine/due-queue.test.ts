import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/engine/due-queue.js';
import { seededRandom } from '../helpers/seeded-random.js';

describe('DueQueue', () => {
  it('gives nothing when nothing is due, and counts what it holds', () => {
    const queue = new DueQueue<string>();
    expect([queue.size, queue.nextTime, queue.takeDue(1e12)]).toEqual([0, Infinity, []]);
    queue.push(10, 'a');
    queue.push(10, 'b');
    expect([queue.size, queue.takeDue(9), queue.size, queue.nextTime]).toEqual([2, [], 2, 10]);
    // Due at its time exactly; the same item may be in it twice.
    queue.push(5, 'a');
    expect(queue.nextTime).toBe(5);
    expect([queue.takeDue(10).sort(), queue.size, queue.nextTime]).toEqual([['a', 'a', 'b'], 0, Infinity]);
  });

  // Against a plain list: every take gives exactly the items due by then, each as often as
  // pushed, and they come out in time order (a heap pops its smallest first).
  it.each([1, 2, 3, 4, 5])('takes exactly what is due, earliest first, over a random run (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const queue = new DueQueue<number>();
    let reference: { time: number; item: number }[] = [];
    let now = 0;
    for (let step = 0; step < 3000; step++) {
      if (random(10) < 7) {
        const time = now + random(50) - 5;
        queue.push(time, step);
        reference.push({ time, item: step });
      } else {
        now += random(20);
        const taken = queue.takeDue(now);
        const due = reference.filter((entry) => entry.time <= now);
        reference = reference.filter((entry) => entry.time > now);
        const timeOf = new Map(due.map((entry) => [entry.item, entry.time]));
        expect([...taken].sort((a, b) => a - b)).toEqual(due.map((entry) => entry.item).sort((a, b) => a - b));
        const times = taken.map((item) => timeOf.get(item) as number);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(queue.size).toBe(reference.length);
      }
    }
  });
});
