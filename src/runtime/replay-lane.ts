import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import { join } from 'node:path';
import { wordsToAddress } from '../engine/address-words.js';
import type { Knock } from '../filters/events.js';
import type { TemplateSpec } from '../filters/knock-templates.js';
import type { LineParser } from '../filters/parse-line.js';
import { detectFormat } from '../sources/replay-formats.js';
import { MAX_LINE_LENGTH, READ_CHUNK } from '../sources/read-lines.js';
import { packageRoot } from './package-paths.js';
import type { Pipeline } from './pipeline.js';

// The replay lane: a plain syslog file of kernel lines read by wasm/knock-scan.c, a scanner
// that reads the lines of the templates the netfilter scanner has learned
// (knock-templates.ts) from the file's bytes, without a string per line, and hands every
// other line to the parser as replay's line reader would. The same lines, events and
// decisions as that reader and parser (test/runtime/replay-lane.test.ts holds them to it),
// in less than half the time on door-heavy logs.

// Record layout and kinds: wasm/knock-scan.c.
const KIND_KNOCK = 1;
const KIND_MINUTE = 2;
const KIND_MISSED = 3;
const R_KIND = 0;
const R_START = 1;
const R_END = 2;
const R_SRC_START = 3;
const R_SRC_END = 4;
const R_DPORT = 5;
const R_SPT = 6;
const R_FLAGS = 7;
const R_SECOND = 8;
const R_TEMPLATE = 9;
const R_IPV6 = 10;
const R_WORDS = 11;
const R_ZONE = 15;
const TCP = 256;

const OP_END = 0;
const OP_TEXT = 1;
const OP_ISO = 2;
const OP_KERNEL_STAMP = 3;
const OP_QUAD = 4;
const OP_IPV6 = 5;
const OP_DIGITS = 6;
const OP_IP4_FIELDS = 7;
const OP_IP6_FIELDS = 8;
const OP_TRANSPORT = 9;
const OP_FAMILY = 10;
const OP_MESSAGE = 11;

// What the lane uses of WebAssembly (Node's global; @types/node does not declare it).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: unknown };
};
interface WasmModule {
  readonly compiled: unique symbol;
}

interface ScanExports {
  memory: { buffer: ArrayBuffer };
  bufferAt(): number;
  recordsAt(): number;
  fractionsAt(): number;
  templatesAt(): number;
  templateStartsAt(): number;
  bufferBytes(): number;
  maxRecords(): number;
  stride(): number;
  setTemplateCount(count: number): void;
  scanEnd(): number;
  setMinute(start: number, zoneStart: number, end: number, valid: number): void;
  scan(start: number, length: number, limit: number): number;
}

let compiled: WasmModule | undefined;

function scannerModule(): WasmModule {
  compiled ??= new WebAssembly.Module(readFileSync(join(packageRoot(), 'wasm', 'knock-scan.wasm')));
  return compiled;
}

// Whether `file` can be replayed through the lane with `parser`: a plain file (not standard
// input, not gzip), the built-in netfilter filter.
export function laneFits(file: string, parser: LineParser): boolean {
  return file !== '-' && !file.endsWith('.gz') && parser.knocksOnly && parser.knockTemplates !== undefined;
}

// Replays one file through the lane. False, with nothing read into the pipeline, when the
// file is no syslog file (a kmsg dump or journal export: the caller reads it the usual way).
export function replayThroughLane(file: string, pipeline: Pipeline, parser: LineParser, progress?: (bytesRead: number) => void): boolean {
  const templateSet = parser.knockTemplates;
  if (templateSet === undefined) return false;
  const scanner = new WebAssembly.Instance(scannerModule()).exports as unknown as ScanExports;
  const memory = scanner.memory.buffer;
  const bufferBytes = scanner.bufferBytes();
  const buffer = Buffer.from(memory, scanner.bufferAt(), bufferBytes);
  const stride = scanner.stride();
  const maxRecords = scanner.maxRecords();
  const records = new Int32Array(memory, scanner.recordsAt(), maxRecords * stride);
  const words = new Uint32Array(memory, scanner.recordsAt(), maxRecords * stride);
  const fractions = new Float64Array(memory, scanner.fractionsAt(), maxRecords);
  const ops = new Uint8Array(memory, scanner.templatesAt(), 8192);
  const starts = new Int32Array(memory, scanner.templateStartsAt(), 8);

  let specs: TemplateSpec[] = [];
  let version = -1;
  const syncTemplates = (): void => {
    if (templateSet.version === version) return;
    version = templateSet.version;
    specs = [];
    let at = 0;
    for (const spec of templateSet.specs()) {
      const encoded = encodeTemplate(spec);
      if (encoded === undefined || at + encoded.length > ops.length) continue;
      starts[specs.length] = at;
      ops.set(encoded, at);
      at += encoded.length;
      specs.push(spec);
    }
    scanner.setTemplateCount(specs.length);
  };

  // The minute being read: its time at second 00.
  let minuteValue = 0;
  const setMinute = (start: number, record: number): void => {
    const spec = specs[records[record + R_TEMPLATE] as number] as TemplateSpec;
    const zoneStart = records[record + R_ZONE] as number;
    const stamp = buffer.toString('latin1', start, start + spec.stampEnd);
    // As syslog-time.ts reads a minute's stamps: not hour 24, which has only 24:00:00.
    const value = stamp.startsWith('24', 11) ? undefined : parser.parseTime(stamp.slice(0, 19) + stamp.slice(zoneStart));
    if (value !== undefined) minuteValue = value - (records[record + R_SECOND] as number) * 1000;
    scanner.setMinute(start, zoneStart, spec.stampEnd, value === undefined ? 0 : 1);
  };

  // The line reader hands out one batch per READ_CHUNK bytes of the file, and the pipeline
  // moves its clock to the time of each batch's last line: the lane moves it after the same
  // lines. `lastChunk` is the chunk of the last line kept (-1: none yet), `lastTime` its time
  // (undefined: none), or `lastText` the line when its time is not read yet.
  let lastChunk = -1;
  let lastTime: number | undefined;
  let lastText: string | undefined;
  const lines: string[] = [];
  const flush = (): void => {
    if (lines.length === 0) return;
    pipeline.readLines(lines, parser);
    lines.length = 0;
  };
  const batchEnds = (): void => {
    flush();
    pipeline.linesReadTo(lastText === undefined ? lastTime : parser.timeOf(lastText));
  };
  // A line kept (not dropped as over-long) whose newline is in chunk `chunk`.
  const kept = (chunk: number): void => {
    if (chunk !== lastChunk && lastChunk !== -1) batchEnds();
    lastChunk = chunk;
  };

  const fd = openSync(file, 'r');
  try {
    let have = 0;
    // The file offset of buffer[0].
    let offset = 0;
    let first = true;
    // Dropping a line longer than the buffer, up to its newline.
    let skipping = false;
    for (;;) {
      const read = readSync(fd, buffer, have, bufferBytes - have, null);
      const length = have + read;
      if (first) {
        first = false;
        if (!isSyslog(buffer, length)) return false;
      }
      if (read === 0) {
        // A last line without a newline, as the line reader's end() has it: a batch of its own.
        if (have > 0 && !skipping) {
          const text = buffer.toString('utf8', 0, have);
          if (text.length > MAX_LINE_LENGTH) {
            pipeline.stats.oversize++;
          } else {
            kept(Infinity);
            lines.push(text.endsWith('\r') ? text.slice(0, -1) : text);
            lastText = lines.at(-1);
          }
        }
        if (lastChunk !== -1) batchEnds();
        progress?.(offset + have);
        return true;
      }
      let start = 0;
      if (skipping) {
        const newline = buffer.indexOf(10, 0);
        if (newline === -1 || newline >= length) {
          offset += length;
          have = 0;
          continue;
        }
        skipping = false;
        start = newline + 1;
      }
      const ascii = isAscii(buffer.subarray(start, length));
      for (;;) {
        syncTemplates();
        // Without a template yet, a few lines at a time: the parser learns one from the first
        // LOG line it reads.
        const limit = specs.length === 0 ? 64 : maxRecords;
        const count = scanner.scan(start, length, limit);
        for (let i = 0; i < count; i++) {
          const record = i * stride;
          const kind = records[record + R_KIND] as number;
          const lineStart = records[record + R_START] as number;
          const lineEnd = records[record + R_END] as number;
          const carriageReturn = buffer[lineEnd] === 13 ? 1 : 0;
          const chunk = Math.floor((offset + lineEnd + carriageReturn) / READ_CHUNK);
          if (kind === KIND_KNOCK) {
            kept(chunk);
            flush();
            const spec = specs[records[record + R_TEMPLATE] as number] as TemplateSpec;
            const flags = records[record + R_FLAGS] as number;
            const src = records[record + R_IPV6] === 0 ? buffer.toString('latin1', records[record + R_SRC_START] as number, records[record + R_SRC_END] as number) : wordsToAddress(words, record + R_WORDS, 6);
            const time = minuteValue + (records[record + R_SECOND] as number) * 1000 + (fractions[i] as number);
            const event: Knock = { type: 'knock', time, prefix: spec.prefix, src, dst: spec.dst, proto: (flags & TCP) !== 0 ? 'tcp' : 'udp', dport: records[record + R_DPORT] as number, spt: records[record + R_SPT] as number, flags: flags & 255, iface: spec.iface };
            pipeline.handleScannedKnock(event);
            lastTime = time;
            lastText = undefined;
            continue;
          }
          if (kind === KIND_MISSED) {
            kept(chunk);
            flush();
            pipeline.countMissedLine();
            lastTime = minuteValue + (records[record + R_SECOND] as number) * 1000 + (fractions[i] as number);
            lastText = undefined;
            continue;
          }
          const text = ascii ? buffer.toString('latin1', lineStart, lineEnd) : buffer.toString(isAscii(buffer.subarray(lineStart, lineEnd)) ? 'latin1' : 'utf8', lineStart, lineEnd);
          // Measured as the line reader measures it: decoded, with its carriage return.
          if (text.length + carriageReturn > MAX_LINE_LENGTH) {
            pipeline.stats.oversize++;
            continue;
          }
          kept(chunk);
          lines.push(text);
          lastText = text;
          if (kind === KIND_MINUTE) setMinute(lineStart, record);
        }
        // The parser reads the lines before the scanner goes on: it may learn a template.
        flush();
        start = scanner.scanEnd();
        if (count < limit && (count === 0 || records[(count - 1) * stride + R_KIND] !== KIND_MINUTE)) break;
      }
      // The partial line at the end moves to the front; one that fills the buffer is dropped.
      buffer.copy(buffer, 0, start, length);
      offset += start;
      have = length - start;
      progress?.(offset);
      if (have === bufferBytes) {
        pipeline.stats.oversize++;
        skipping = true;
        offset += have;
        have = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
}

// Whether the file that starts with buffer[0, length) is a syslog file, as replay-formats.ts
// tells by its first non-empty line: not a journal export, not a kmsg dump.
function isSyslog(buffer: Buffer, length: number): boolean {
  const format = detectFormat(buffer.toString('utf8', 0, length).split(/\r?\n/));
  return format !== 'journal' && format !== 'kmsg';
}

// A template as the lane's scanner reads it, or undefined when it cannot: a traditional
// stamp, or a text that is not ASCII (the scanner compares bytes).
export function encodeTemplate(spec: TemplateSpec): Uint8Array | undefined {
  if (!spec.iso || spec.stampEnd > 255 || spec.kernelStamp > 255 || spec.srcStart > 0xffff) return undefined;
  const bytes: number[] = [OP_ISO, spec.stampEnd];
  const text = (value: string): boolean => {
    if (!/^[\x20-\x7e]*$/.test(value) || value.length > 0xffff) return false;
    bytes.push(OP_TEXT, value.length & 0xff, value.length >> 8);
    for (let i = 0; i < value.length; i++) bytes.push(value.charCodeAt(i));
    return true;
  };
  if (!text(spec.envelope)) return undefined;
  bytes.push(OP_MESSAGE, OP_FAMILY, spec.srcStart & 0xff, spec.srcStart >> 8, spec.ipv6 ? 1 : 0);
  if (spec.kernelStamp > 0) bytes.push(OP_KERNEL_STAMP, spec.kernelStamp);
  if (!text(spec.head)) return undefined;
  bytes.push(spec.ipv6 ? OP_IPV6 : OP_QUAD);
  if (!text(spec.middle)) return undefined;
  bytes.push(OP_DIGITS, 5, spec.ipv6 ? OP_IP6_FIELDS : OP_IP4_FIELDS, OP_TRANSPORT, OP_END);
  return Uint8Array.from(bytes);
}
