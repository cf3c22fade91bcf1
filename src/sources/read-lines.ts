import { closeSync, open as openCallback, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isAscii } from 'node:buffer';

export const MAX_LINE_LENGTH = 65_536;

export interface LineBatch {
  lines: string[];
  // Lines longer than MAX_LINE_LENGTH, dropped whole (never matched, never a decision).
  oversize: number;
  // Bytes of the (possibly compressed) input consumed so far.
  bytesRead: number;
}

// 64 KiB reads: as fast per line as 1 MiB ones, and far less memory. Node decodes a chunk
// over ~1 MB into a string outside the JavaScript heap, and V8 frees those and their
// buffers late: with 1 MiB reads a 1M-line replay peaked about 50 MB higher.
export const READ_CHUNK = 1 << 16;

// What openLog gives: chunks of the log, and the bytes of the (possibly compressed) input
// consumed so far. A chunk is read before the next is asked for: it may be reused.
export interface LogChunks {
  chunks: AsyncIterable<Buffer>;
  bytesRead(): number;
}

// Opens a log for reading: `-` is standard input, `.gz` is gunzipped.
export function openLog(path: string): LogChunks {
  if (path === '-' || path.endsWith('.gz')) {
    const raw: Readable = path === '-' ? process.stdin : new FileReader(path);
    const stream = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
    if (stream !== raw) raw.on('error', (error: Error) => stream.destroy(error));
    return { chunks: stream as AsyncIterable<Buffer>, bytesRead: () => (raw as Readable & { bytesRead?: number }).bytesRead ?? 0 };
  }
  let bytes = 0;
  return { chunks: fileChunks(path, (length) => { bytes += length; }), bytesRead: () => bytes };
}

// A plain file in chunks read with readSync into one buffer. Replay and parse have nothing
// else to do while they wait for the next chunk: a synchronous read spares each chunk the
// round trip through libuv's thread pool (~10% less CPU on door-heavy logs), and one buffer
// read again and again spares each chunk a fresh allocation, its page faults and the stream
// machinery (another ~5%). Opening stays asynchronous: a missing file fails the first read.
async function* fileChunks(path: string, counted: (length: number) => void): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const length = readSync(handle.fd, chunk, 0, READ_CHUNK, null);
      if (length === 0) return;
      counted(length);
      yield chunk.subarray(0, length);
    }
  } finally {
    await handle.close();
  }
}

// A compressed file as a stream of chunks read with readSync (see fileChunks).
class FileReader extends Readable {
  bytesRead = 0;
  private fd = -1;

  constructor(private readonly path: string) {
    super({ highWaterMark: READ_CHUNK });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    openCallback(this.path, 'r', (error, fd) => {
      if (error === null) this.fd = fd;
      callback(error);
    });
  }

  override _read(): void {
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    let length: number;
    try {
      length = readSync(this.fd, chunk, 0, READ_CHUNK, null);
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    this.bytesRead += length;
    this.push(length === 0 ? null : chunk.subarray(0, length));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
    callback(error);
  }
}

// Splits a byte stream into lines, in batches (one per chunk) so the per-line cost stays a
// loop iteration, not an await. A final line without a newline is still returned.
export async function* readLineBatches(log: LogChunks): AsyncGenerator<LineBatch> {
  const splitter = createLineSplitter();
  for await (const chunk of log.chunks) {
    const batch = splitter.push(chunk);
    yield { ...batch, bytesRead: log.bytesRead() };
  }
  const last = splitter.end();
  yield { ...last, bytesRead: log.bytesRead() };
}

export interface LineSplitter {
  push(chunk: Buffer): { lines: string[]; oversize: number };
  end(): { lines: string[]; oversize: number };
  // Bytes of a partial line held back, waiting for its newline, or of an over-long line
  // being dropped.
  pendingBytes(): number;
}

// Holds a partial line until its newline; a line that grows past MAX_LINE_LENGTH is
// dropped and counted, and reading resumes at the next newline. Only whole lines are
// decoded, so a UTF-8 character split between chunks stays whole.
export function createLineSplitter(maxLength = MAX_LINE_LENGTH): LineSplitter {
  let pending: Buffer | undefined;
  let skipping = false;
  // Bytes of the over-long line dropped so far: a reader that resumes must start before them.
  let skipped = 0;
  const NONE = { lines: [] as string[], oversize: 0 };

  const splitText = (text: string, lines: string[]): number => {
    let oversize = 0;
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline === -1) break;
      if (skipping) {
        skipping = false;
      } else if (newline - start > maxLength) {
        oversize++;
      } else {
        const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
        lines.push(text.slice(start, end));
      }
      start = newline + 1;
    }
    return oversize;
  };

  // Lines ending in newlines. Kernel lines are ASCII: latin1 decodes those fastest and means
  // the same there.
  const splitWhole = (whole: Buffer, lines: string[]): number => splitText(whole.toString(isAscii(whole) ? 'latin1' : 'utf8'), lines);

  return {
    push(chunk) {
      const lines: string[] = [];
      let oversize = 0;
      let data = chunk;
      // The held partial line is completed on its own: joining it to the whole chunk took a
      // second chunk-sized buffer per read, garbage for the collector to find.
      const first = pending === undefined ? -1 : chunk.indexOf(10);
      if (pending !== undefined) {
        data = first === -1 ? Buffer.concat([pending, chunk]) : chunk.subarray(first + 1);
        if (first !== -1) oversize = splitWhole(Buffer.concat([pending, chunk.subarray(0, first + 1)]), lines);
        pending = undefined;
      }
      const lastNewline = data.lastIndexOf(10);
      let rest = data;
      if (lastNewline !== -1) {
        oversize += splitWhole(data.subarray(0, lastNewline + 1), lines);
        rest = data.subarray(lastNewline + 1);
        skipped = 0;
      }
      if (rest.length > maxLength) {
        // Bytes, not characters: a long line of multi-byte text may be dropped a little early.
        if (!skipping) oversize++;
        skipping = true;
      } else if (!skipping && rest.length > 0) {
        pending = Buffer.from(rest);
      }
      if (skipping) skipped += rest.length;
      return { lines, oversize };
    },
    pendingBytes() {
      return pending?.length ?? skipped;
    },
    end() {
      const rest = pending;
      pending = undefined;
      if (skipping || rest === undefined) return NONE;
      const text = rest.toString('utf8');
      return text.length > maxLength ? { lines: [], oversize: 1 } : { lines: [text.endsWith('\r') ? text.slice(0, -1) : text], oversize: 0 };
    },
  };
}
