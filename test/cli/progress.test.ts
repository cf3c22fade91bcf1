import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function capture(isTTY: boolean): { out: { write: (text: string) => void; isTTY: boolean }; text: () => string } {
  let text = '';
  return { out: { write: (chunk: string) => { text += chunk; }, isTTY }, text: () => text };
}

describe('progress bar', () => {
  it('draws on a terminal for a large input and clears itself', () => {
    const { out, text } = capture(true);
    const progress = createProgress(out, 100 * 1024 * 1024, { now: () => 0 });
    progress.update(50 * 1024 * 1024, 250_000);
    progress.done();
    // One draw, then the line is cleared for the output that follows.
    expect(text()).toBe('\r[###############               ]  50%  0.25M lines\r\x1b[K');
  });

  it.each([
    ['not a terminal', false, 100 * 1024 * 1024],
    ['a small input', true, 1024],
  ])('stays silent for %s', (_name, isTTY, size) => {
    const { out, text } = capture(isTTY);
    const progress = createProgress(out, size, { now: () => 0 });
    progress.update(size / 2, 10);
    progress.done();
    expect(text()).toBe('');
  });

  it('redraws at most every 200 ms of the clock it is given', () => {
    const { out, text } = capture(true);
    let now = 1000;
    const progress = createProgress(out, 100 * 1024 * 1024, { now: () => now });
    const draws = (): number => text().split('\r').length - 1;
    progress.update(10 * 1024 * 1024, 1);
    now += 199;
    progress.update(20 * 1024 * 1024, 2);
    expect(draws()).toBe(1);
    now += 1;
    progress.update(30 * 1024 * 1024, 3);
    expect(draws()).toBe(2);
    expect(text()).toContain(' 30%  0.00M lines');
  });
});
