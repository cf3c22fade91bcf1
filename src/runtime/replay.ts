import { statSync } from 'node:fs';
import type { Config } from '../config/types.js';
import type { Filter } from '../filters/load-filter.js';
import { createLineParser } from '../filters/parse-line.js';
import { createSyslogTimeParser } from '../filters/syslog-time.js';
import type { Grant } from '../grants/grant-table.js';
import { openLog, readLineBatches } from '../sources/read-lines.js';
import type { Clock } from './clock.js';
import { Pipeline, type DecisionSink, type PipelineStats } from './pipeline.js';

export interface ReplayInput {
  files: readonly string[];
  config: Config;
  filter: Filter;
  timeZone: string | undefined;
  clock: Clock;
  sink: DecisionSink;
  onProgress?: (bytesRead: number, lines: number) => void;
}

export interface ReplayResult {
  stats: PipelineStats;
  stillOpen: Grant[];
  lastTime: number;
}

// Runs logs through the live pipeline, file after file, with the log's own time.
export async function replayFiles(input: ReplayInput): Promise<ReplayResult> {
  const pipeline = new Pipeline(input.config, input.sink);
  let doneBytes = 0;
  for (const file of input.files) {
    const reference = file === '-' ? input.clock.now() : statSync(file).mtimeMs;
    const parse = createLineParser(input.filter, createSyslogTimeParser({ timeZone: input.timeZone, reference }));
    const { stream, raw } = openLog(file);
    let bytes = 0;
    for await (const batch of readLineBatches(stream, raw)) {
      pipeline.stats.oversize += batch.oversize;
      pipeline.handleLines(batch.lines, parse);
      bytes = batch.bytesRead;
      input.onProgress?.(doneBytes + bytes, pipeline.stats.lines);
    }
    doneBytes += bytes;
  }
  return { stats: pipeline.stats, stillOpen: pipeline.grants.list(), lastTime: pipeline.now };
}
