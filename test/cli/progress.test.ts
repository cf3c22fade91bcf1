import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function capture(isTTY: boolean): { out: { write: (text: string) => void; isTTY: boolean }; text: () => string } {
  let text = '';
  return { out: { write: (chunk: string) => { text += chunk; }, isTTY }, text: () => text };
}

describe('progress bar', () => {
  it('draws on a terminal for a large input and clears itself', () => {
    const { out, text } = capture(true);
    const progress = createProgress(out, 100 * 1024 * 1024);
    progress.update(50 * 1024 * 1024, 250_000);
    progress.done();
    expect(text()).toContain('[###############               ]  50%  0.25M lines');
    expect(text().endsWith('\r\x1b[K')).toBe(true);
  });

  it.each([
    ['not a terminal', false, 100 * 1024 * 1024],
    ['a small input', true, 1024],
  ])('stays silent for %s', (_name, isTTY, size) => {
    const { out, text } = capture(isTTY);
    const progress = createProgress(out, size);
    progress.update(size / 2, 10);
    progress.done();
    expect(text()).toBe('');
  });
});
