import { describe, expect, it } from 'vitest';
import { BatchQueue, type Pending } from '../../src/firewall/batch-queue.js';

// Each send's outcome once the event loop has run a few turns: 'pending' when never settled.
async function outcomes(sends: readonly Promise<void>[]): Promise<string[]> {
  const seen = sends.map(() => 'pending');
  sends.forEach((send, index) => send.then(() => { seen[index] = 'ok'; }, (error: Error) => { seen[index] = error.message; }));
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  return seen;
}

describe('BatchQueue', () => {
  it.each<[string, (batch: Pending<string>[]) => Promise<void>, string[]]>([
    // apply throws before it settles anything, or rejects after settling one send of its batch
    ['throws', (batch: Pending<string>[]): Promise<void> => {
      if (batch.some((pending) => pending.changes === 'bad')) throw new Error('channel gone');
      for (const pending of batch) pending.resolve();
      return Promise.resolve();
    }, ['ok', 'channel gone', 'channel gone', 'ok']],
    ['rejects', async (batch: Pending<string>[]): Promise<void> => {
      await Promise.resolve();
      batch[0]?.resolve();
      if (batch.some((pending) => pending.changes === 'bad')) throw new Error('channel gone');
      for (const pending of batch) pending.resolve();
    }, ['ok', 'ok', 'channel gone', 'ok']],
  ])('when apply %s, every send of its batch is settled and the next batch still goes', async (_how, apply, expected) => {
    const queue = new BatchQueue<string>(apply);
    // The first send is a batch of its own; the next two arrive while it is in flight: one batch.
    const first = queue.send('good');
    const batch = [queue.send('bad'), queue.send('also in the batch')];
    const settled = await outcomes([first, ...batch]);
    const later = await outcomes([queue.send('after')]);
    expect([...settled, ...later]).toEqual(expected);
  });
});
