import { describe, expect, it } from 'vitest';
import { LineHold } from '../../src/runtime/line-hold.js';

function hold(halted: () => boolean): { hold: LineHold; delivered: string[] } {
  const delivered: string[] = [];
  return { delivered, hold: new LineHold((lines, kind) => delivered.push(...lines.map((line) => `${kind} ${line}`)), halted) };
}

describe('the line hold of a reload', () => {
  it('passes lines at once when nothing holds them, and after the work, in order, when something does', async () => {
    const h = hold(() => false);
    h.hold.pass(['a'], 'knocks');
    let release = (): void => undefined;
    const work = h.hold.during(async () => await new Promise<void>((resolve) => { release = resolve; }));
    h.hold.pass(['b'], 'auth');
    h.hold.pass(['c'], 'knocks');
    expect(h.delivered).toEqual(['knocks a']);
    let released = false;
    const waited = h.hold.released().then(() => { released = true; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(false);
    release();
    await work;
    await waited;
    expect(h.delivered).toEqual(['knocks a', 'auth b', 'knocks c']);
  });

  it('drops what it holds after a halt (a crash), and only then', async () => {
    let halted = false;
    const h = hold(() => halted);
    await h.hold.during(async () => {
      h.hold.pass(['a'], 'knocks');
      halted = true;
    });
    expect(h.delivered).toEqual([]);
    await h.hold.released();
  });
});
