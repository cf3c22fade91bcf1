import { statSync } from 'node:fs';
import type { Config } from '../config/types.js';
import type { Filter } from '../filters/load-filter.js';
import { createLineParser, type LineParser } from '../filters/parse-line.js';
import { createSyslogTimeParser } from '../filters/syslog-time.js';
import type { Grant } from '../access/grant-table.js';
import { openLog, readLineBatches, type LineBatch } from '../sources/read-lines.js';
import { asLiveLines } from '../sources/replay-formats.js';
import { mergeByTime } from './merge-logs.js';
import { laneFits, replayThroughLane } from './replay-lane.js';
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
  // false: every file through the line reader, never the replay lane (replay-lane.ts).
  lane?: boolean;
}

export interface ReplayResult {
  stats: PipelineStats;
  stillOpen: Grant[];
}

// Runs logs through the live pipeline with the log's own time: the kernel log's files in
// order and, with authFiles, sshd's log merged in by time.
export async function replayFiles(input: ReplayInput): Promise<ReplayResult> {
  const pipeline = new Pipeline(input.config, input.sink);
  const logs = [{ files: input.files, filter: input.filter }];
  if (input.authFiles !== undefined && input.authFiles.length > 0 && input.authFilter !== undefined) {
    logs.push({ files: input.authFiles, filter: input.authFilter });
  }
  const parsers = logs.map((log) => parserFor(log.files, log.filter, input));
  const knockParser = parsers[0] as LineParser;
  // One log, no other to merge by time: its syslog files go through the lane, file by file,
  // and any other (a kmsg dump, a journal export) through the line reader.
  if (logs.length === 1 && input.lane !== false && input.files.every((file) => laneFits(file, knockParser))) {
    let done = 0;
    for (const file of input.files) {
      let bytes = 0;
      const progress = (read: number): void => {
        bytes = read;
        input.onProgress?.(done + read, pipeline.stats.lines);
      };
      if (!replayThroughLane(file, pipeline, knockParser, progress)) await readInto(pipeline, [{ files: [file], parser: knockParser }], input.clock, progress);
      done += bytes;
    }
  } else {
    await readInto(pipeline, logs.map((log, index) => ({ files: log.files, parser: parsers[index] as LineParser })), input.clock, (bytes) => input.onProgress?.(bytes, pipeline.stats.lines));
  }
  return { stats: pipeline.stats, stillOpen: pipeline.grants() };
}

// The logs' lines through the line reader, the first log's with the second's (sshd's) merged
// in by time; `progress` gets the bytes read of all of them.
async function readInto(pipeline: Pipeline, logs: readonly { files: readonly string[]; parser: LineParser }[], clock: Clock, progress: (bytes: number) => void): Promise<void> {
  const sources = logs.map((log, index) => ({ batches: readAll(log.files, index === 0 ? 'knocks' : 'auth', clock), timeOf: (line: string) => log.parser.timeOf(line) }));
  const bytesRead = logs.map(() => 0);
  for await (const run of mergeByTime(sources, (batch, source) => {
    pipeline.stats.oversize += batch.oversize;
    bytesRead[source] = batch.bytesRead;
  })) {
    pipeline.handleLines(run.lines, (logs[run.source] as (typeof logs)[number]).parser);
    progress(bytesRead.reduce((sum, bytes) => sum + bytes, 0));
  }
}

// Several files of one log, in order, as one stream of batches (bytesRead counts them all);
// kmsg dumps and journal exports as the lines the live sources make of them.
async function* readAll(files: readonly string[], role: 'knocks' | 'auth', clock: Clock): AsyncGenerator<LineBatch> {
  let done = 0;
  for (const file of files) {
    let bytes = 0;
    const lastRecordTime = (): number => (file === '-' ? clock.now() : Math.round(statSync(file).mtimeMs));
    for await (const batch of asLiveLines(readLineBatches(openLog(file)), role, lastRecordTime)) {
      bytes = batch.bytesRead;
      yield { ...batch, bytesRead: done + bytes };
    }
    done += bytes;
  }
}

// One time-stamp parser per log, so a year inferred for syslog stamps carries on from one
// rotated file into the next; the first file's mtime is the reference.
function parserFor(files: readonly string[], filter: Filter, input: ReplayInput): LineParser {
  const first = files[0];
  const reference = first === undefined || first === '-' ? input.clock.now() : statSync(first).mtimeMs;
  return createLineParser(filter, createSyslogTimeParser({ timeZone: input.timeZone, reference }));
}
