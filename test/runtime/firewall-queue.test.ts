import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FirewallQueue } from '../../src/runtime/firewall-queue.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function failing(wanted: () => boolean): { queue: FirewallQueue; messages: string[]; tries: () => number } {
  const messages: string[] = [];
  let tries = 0;
  const queue = new FirewallQueue((event) => messages.push(`${event.level} ${event.message}`));
  queue.run({ what: 'open of door for 203.0.113.7', apply: async () => { tries++; throw new Error('busy'); }, stillWanted: wanted, fix: 'Fix it.' });
  return { queue, messages, tries: () => tries };
}

describe('the firewall queue', () => {
  it('tries a change again only if it is still wanted when the retry is due', async () => {
    let wanted = true;
    const { queue, messages, tries } = failing(() => wanted);
    await queue.settle();
    expect(tries()).toBe(1);
    expect(queue.pending).toBe(1);
    // The grant closed while the retry waited.
    wanted = false;
    await vi.advanceTimersByTimeAsync(120_000);
    await queue.settle();
    expect(tries()).toBe(1);
    expect(queue.pending).toBe(0);
    expect(messages).toEqual(['warning Firewall open of door for 203.0.113.7 failed (try 1): busy; trying again in 1s.']);
  });

  it('does not schedule a retry for a change no longer wanted when it fails', async () => {
    const { queue, messages, tries } = failing(() => false);
    await queue.settle();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(tries()).toBe(1);
    expect(messages).toEqual(['warning Firewall open of door for 203.0.113.7 failed: busy.']);
  });

  it('counts changes waiting to run as pending', async () => {
    const messages: string[] = [];
    const queue = new FirewallQueue((event) => messages.push(event.message));
    let release: () => void = () => undefined;
    queue.run({ what: 'a', apply: async () => await new Promise<void>((resolve) => { release = resolve; }), fix: '' });
    queue.run({ what: 'b', apply: async () => undefined, fix: '' });
    expect(queue.pending).toBe(2);
    await vi.advanceTimersByTimeAsync(0);
    release();
    await queue.settle();
    expect(queue.pending).toBe(0);
  });
});
