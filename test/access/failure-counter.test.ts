import { describe, expect, it } from 'vitest';
import { BanStore } from '../../src/access/ban-store.js';
import { FailureCounter } from '../../src/access/failure-counter.js';

const A = '203.0.113.7';
const B = '203.0.113.8';

// maxretry 3 within findtime 60 s, bantime 100 s
function counterOf(): FailureCounter {
  return new FailureCounter(new BanStore([]), { maxRetry: 3, findTime: 60_000, banTime: 100_000, banTimeMax: 350_000 });
}

// How many addresses have failures on record after each cleanup.
function sizesAfterCleanups(counter: FailureCounter, times: number[]): number[] {
  return times.map((time) => {
    counter.cleanup(time);
    return counter.size;
  });
}

describe('the findtime window', () => {
  it.each([
    // a failure exactly findtime old still counts
    [[0, 30_000, 60_000], ['failure 1', 'failure 2', 'failure 3', 'banned until 160000']],
    [[0, 30_000, 60_001], ['failure 1', 'failure 2', 'failure 2']],
  ])('failures at %j give %j', (times, expected) => {
    const counter = counterOf();
    const decisions = times.flatMap((time) => counter.count(A, time));
    expect(decisions.map((d) => (d.type === 'failure' ? `failure ${d.count}` : d.type === 'banned' ? `banned until ${d.until}` : d.type))).toEqual(expected);
  });
});

describe('a ban', () => {
  // findtime longer than the ban: the failures that led to it would still be in the window
  it('starts the count anew: the failures that led to it are forgotten', () => {
    const counter = new FailureCounter(new BanStore([]), { maxRetry: 3, findTime: 600_000, banTime: 100_000, banTimeMax: 350_000 });
    for (const time of [0, 1000, 2000]) counter.count(A, time);
    expect(counter.count(A, 200_000)).toEqual([{ type: 'failure', time: 200_000, src: A, count: 1 }]);
  });

  // The failures before the ban stay in the cleanup's queue; the address's new count is not theirs.
  it('leaves the count that starts after it to the cleanups, which forget it on its own time', () => {
    const counter = new FailureCounter(new BanStore([]), { maxRetry: 3, findTime: 600_000, banTime: 100_000, banTimeMax: 350_000 });
    for (const time of [0, 1000, 2000]) counter.count(A, time);
    counter.count(A, 200_000);
    // findtime after the failures that led to the ban, not after the one at 200 s
    counter.cleanup(602_001);
    expect(counter.count(A, 700_000)).toEqual([{ type: 'failure', time: 700_000, src: A, count: 2 }]);
  });
});

describe('cleanup', () => {
  it('forgets the addresses whose failures are all older than findtime, and keeps the others', () => {
    const counter = counterOf();
    counter.count(A, 0);
    counter.count(B, 30_000);
    expect(sizesAfterCleanups(counter, [60_000, 60_001, 90_001])).toEqual([2, 1, 0]);
  });

  // Addresses are kept in the order of their latest failure, so a cleanup reads only those
  // it forgets; a log whose times step back breaks that order.
  it('forgets the right addresses when failures come out of time order', () => {
    const counter = counterOf();
    counter.count(A, 30_000);
    counter.count(B, 0);
    counter.cleanup(60_001);
    expect(counter.size).toBe(1);
    expect(counter.count(A, 60_001)).toEqual([{ type: 'failure', time: 60_001, src: A, count: 2 }]);
    expect(counter.count(B, 60_001)).toEqual([{ type: 'failure', time: 60_001, src: B, count: 1 }]);
  });

  it('drops at a cleanup the old failures of an address it keeps, even for a failure dated before it', () => {
    const counter = counterOf();
    counter.count(A, 0);
    counter.count(A, 30_000);
    counter.cleanup(60_001);
    // 0 is within findtime of 50_000, but the cleanup at 60_001 forgot it
    expect(counter.count(A, 50_000)).toEqual([{ type: 'failure', time: 50_000, src: A, count: 2 }]);
  });

  // What a cleanup forgets is what is older than findtime at its time, as for a count.
  it('keeps a failure exactly findtime old at a cleanup, as a count does', () => {
    const counter = counterOf();
    counter.count(A, 0);
    counter.count(A, 1000);
    counter.cleanup(60_000);
    expect(counter.count(A, 60_000)).toEqual([
      { type: 'failure', time: 60_000, src: A, count: 3 },
      { type: 'banned', time: 60_000, src: A, until: 160_000, failures: 3, offense: 1 },
    ]);
  });

  // A cleanup forgets what was on record when it ran, nothing logged after it.
  it('does not drop failures logged after it, even when they are dated findtime before it', () => {
    const counter = counterOf();
    counter.cleanup(100_000);
    counter.count(A, 10_000);
    expect(counter.count(A, 20_000)).toEqual([{ type: 'failure', time: 20_000, src: A, count: 2 }]);
  });

  // B's failure comes after a cleanup that kept A, and is dated before A's: the next cleanup
  // must still find B among the addresses to forget.
  it('forgets on time an address whose failure is dated before one a cleanup kept', () => {
    const counter = counterOf();
    counter.count(A, 30_000);
    counter.cleanup(30_000);
    counter.count(B, 0);
    expect(sizesAfterCleanups(counter, [60_001, 90_001])).toEqual([1, 0]);
  });

  // More than 1024 addresses forgotten at once: the cleanup's queue is cut down, and goes on.
  it('goes on forgetting on time after it has forgotten many addresses at once', () => {
    const counter = counterOf();
    for (let i = 0; i < 1100; i++) counter.count(`198.51.${i >> 8}.${i & 255}`, 0);
    expect(sizesAfterCleanups(counter, [60_001])).toEqual([0]);
    counter.count(A, 100_000);
    expect(sizesAfterCleanups(counter, [100_000, 160_001])).toEqual([1, 0]);
  });

  it('keeps what it kept counting towards a ban', () => {
    const counter = counterOf();
    counter.count(A, 0);
    counter.count(A, 50_000);
    counter.cleanup(100_000);
    expect(counter.count(A, 100_000)).toEqual([{ type: 'failure', time: 100_000, src: A, count: 2 }]);
  });
});

describe('a log whose times step back', () => {
  // The address's latest failure is the later one, whatever order the log gave them in: a
  // cleanup before findtime has passed since it keeps the address and its count.
  it('keeps an address by its latest failure, not its last one', () => {
    const counter = counterOf();
    counter.count(A, 40_000);
    counter.count(A, 10_000);
    counter.cleanup(90_000);
    expect(counter.size).toBe(1);
    // 10 000 is out of the window by now, 40 000 is not
    expect(counter.count(A, 95_000)).toEqual([{ type: 'failure', time: 95_000, src: A, count: 2 }]);
  });
});

describe('failures carried over to a reload\'s counter', () => {
  it('are forgotten by its cleanups once findtime has passed, as its own are', () => {
    const old = counterOf();
    old.count(A, 0);
    old.count(B, 30_000);
    const next = counterOf();
    next.carryOver(old);
    expect(sizesAfterCleanups(next, [59_000, 60_001, 90_001])).toEqual([2, 1, 0]);
    // The old counter is left as it was (a reload that fails goes on with it).
    expect(old.size).toBe(2);
  });
});
