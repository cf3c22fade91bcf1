import { describe, expect, it } from 'vitest';
import { mergeByTime, type TimedSource } from '../../src/runtime/merge-logs.js';
import type { LineBatch } from '../../src/sources/read-lines.js';

// Lines are "TIME text" (or "- text" for a line without a time); batches as given.
function source(batches: string[][]): TimedSource & { stampsRead: () => number } {
  let read = 0;
  async function* gen(): AsyncGenerator<LineBatch> {
    for (const lines of batches) yield { lines, oversize: 0, bytesRead: 0 };
  }
  return {
    batches: gen(),
    timeOf: (line) => {
      read++;
      const time = line.split(' ')[0];
      return time === '-' ? undefined : Number(time);
    },
    stampsRead: () => read,
  };
}

async function merge(sources: TimedSource[]): Promise<string[]> {
  const out: string[] = [];
  for await (const run of mergeByTime(sources)) out.push(...run.lines.map((line) => `${run.source}:${line}`));
  return out;
}

describe('merging logs by time', () => {
  it('interleaves by time across batches, keeping each log in its order', async () => {
    expect(await merge([source([['1 a', '4 b'], ['6 c']]), source([['2 x', '3 y', '5 z']])]))
      .toEqual(['0:1 a', '1:2 x', '1:3 y', '0:4 b', '1:5 z', '0:6 c']);
  });

  it('keeps a line without a time with the line before it', async () => {
    expect(await merge([source([['1 a', '- a2', '5 b']]), source([['3 x']])]))
      .toEqual(['0:1 a', '0:- a2', '1:3 x', '0:5 b']);
  });

  it('passes a single log through in whole batches without reading its stamps', async () => {
    const only = source([['1 a', '2 b'], ['3 c']]);
    expect(await merge([only])).toEqual(['0:1 a', '0:2 b', '0:3 c']);
    expect(only.stampsRead()).toBe(0);
  });
});
