import type { LineBatch } from '../sources/read-lines.js';

export interface TimedSource {
  batches: AsyncIterator<LineBatch>;
  timeOf: (line: string) => number | undefined;
}

export interface MergedRun {
  source: number;
  lines: string[];
}

interface Cursor {
  source: TimedSource;
  lines: string[];
  index: number;
  done: boolean;
  // The last time seen in this source: lines without one sort with it.
  lastTime: number;
}

// Merges logs by their time stamps (kern.log and auth.log, say), yielding runs of lines from
// one source at a time, so each run keeps its own parser. Lines without a time stay with the
// line before them.
export async function* mergeByTime(sources: readonly TimedSource[], onBatch?: (batch: LineBatch, source: number) => void): AsyncGenerator<MergedRun> {
  const cursors: Cursor[] = sources.map((source) => ({ source, lines: [], index: 0, done: false, lastTime: -Infinity }));
  const fill = async (cursor: Cursor, number: number): Promise<void> => {
    while (!cursor.done && cursor.index >= cursor.lines.length) {
      const next = await cursor.source.batches.next();
      if (next.done) {
        cursor.done = true;
        return;
      }
      onBatch?.(next.value, number);
      cursor.lines = next.value.lines;
      cursor.index = 0;
    }
  };
  const headTime = (cursor: Cursor): number => {
    const line = cursor.lines[cursor.index];
    return (line === undefined ? undefined : cursor.source.timeOf(line)) ?? cursor.lastTime;
  };
  for (;;) {
    for (const [number, cursor] of cursors.entries()) await fill(cursor, number);
    const live = cursors.filter((cursor) => cursor.index < cursor.lines.length);
    if (live.length === 0) return;
    let best = live[0] as Cursor;
    if (live.length === 1) {
      // The other logs are done: the rest of this batch goes as it is, no stamps read.
      yield { source: cursors.indexOf(best), lines: best.index === 0 ? best.lines : best.lines.slice(best.index) };
      best.index = best.lines.length;
      continue;
    }
    for (const cursor of live) if (headTime(cursor) < headTime(best)) best = cursor;
    const limit = Math.min(...live.filter((cursor) => cursor !== best).map(headTime));
    const run: string[] = [];
    while (best.index < best.lines.length) {
      const time = headTime(best);
      if (run.length > 0 && time > limit) break;
      best.lastTime = time;
      run.push(best.lines[best.index] as string);
      best.index++;
    }
    yield { source: cursors.indexOf(best), lines: run };
  }
}
