import { statSync } from 'node:fs';
import type { Config } from '../config/types.js';
import type { Filter } from '../filters/load-filter.js';
import { createLineParser, type LineParser } from '../filters/parse-line.js';
import { createSyslogTimeParser } from '../filters/syslog-time.js';
import type { Grant } from '../grants/grant-table.js';
import { openLog, readLineBatches, type LineBatch } from '../sources/read-lines.js';
import { mergeByTime } from './merge-logs.js';
import type { Clock } from './clock.js';
import { Pipeline, type DecisionSink, type PipelineStats } from './pipeline.js';

export interface ReplayInput {
  files: readonly string[];
  // sshd logs, merged with the kernel log by time.
  authFiles?: readonly string[];
  authFilter?: Filter;
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
  if (input.authFiles !== undefined && input.authFiles.length > 0 && input.authFilter !== undefined) {
    await replayMerged(input, pipeline, input.authFiles, input.authFilter);
    return { stats: pipeline.stats, stillOpen: pipeline.grants.list(), lastTime: pipeline.now };
  }
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

// Several files of one log, in order, as one stream of batches.
async function* readAll(files: readonly string[]): AsyncGenerator<LineBatch> {
  for (const file of files) {
    const { stream, raw } = openLog(file);
    yield* readLineBatches(stream, raw);
  }
}

function parserFor(files: readonly string[], filter: Filter, input: ReplayInput): LineParser {
  const first = files[0];
  const reference = first === undefined || first === '-' ? input.clock.now() : statSync(first).mtimeMs;
  return createLineParser(filter, createSyslogTimeParser({ timeZone: input.timeZone, reference }));
}

async function replayMerged(input: ReplayInput, pipeline: Pipeline, authFiles: readonly string[], authFilter: Filter): Promise<void> {
  const parsers = [parserFor(input.files, input.filter, input), parserFor(authFiles, authFilter, input)];
  const sources = [readAll(input.files), readAll(authFiles)].map((batches, index) => ({
    batches,
    timeOf: (line: string) => parsers[index]?.timeOf(line),
  }));
  const bytesRead = [0, 0];
  for await (const run of mergeByTime(sources, (batch, source) => {
    pipeline.stats.oversize += batch.oversize;
    bytesRead[source] = batch.bytesRead;
  })) {
    const parser = parsers[run.source];
    if (parser !== undefined) pipeline.handleLines(run.lines, parser);
    input.onProgress?.((bytesRead[0] ?? 0) + (bytesRead[1] ?? 0), pipeline.stats.lines);
  }
}
