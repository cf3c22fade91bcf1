import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createLineSplitter, openLog, readLineBatches } from '../../src/sources/read-lines.js';

function split(chunks: (string | Buffer)[], max = 16): { lines: string[]; oversize: number } {
  const splitter = createLineSplitter(max);
  const lines: string[] = [];
  let oversize = 0;
  for (const chunk of chunks) {
    const out = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    lines.push(...out.lines);
    oversize += out.oversize;
  }
  const last = splitter.end();
  return { lines: [...lines, ...last.lines], oversize: oversize + last.oversize };
}

describe('line splitter', () => {
  it.each([
    // partial lines are held until their newline
    [['ab', 'c\nde', 'f\n'], ['abc', 'def'], 0],
    // a last line without a newline still counts; CRLF is one line end
    [['a\r\nb'], ['a', 'b'], 0],
    // a line over the limit is dropped whole, even across chunks, and reading goes on
    [['short\n', 'x'.repeat(10), 'x'.repeat(10), 'x\nnext\n'], ['short', 'next'], 1],
    [['x'.repeat(40) + '\nok\n'], ['ok'], 1],
    [['x'.repeat(40)], [], 1],
    // empty lines are lines
    [['\n\n'], ['', ''], 0],
  ])('%j', (chunks, lines, oversize) => {
    expect(split(chunks)).toEqual({ lines, oversize });
  });

  it('does not break a UTF-8 character split between chunks', () => {
    const bytes = Buffer.from('é\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1)]).lines).toEqual(['é']);
  });

  it('survives binary garbage', () => {
    const garbage = Buffer.from([0, 255, 254, 10, 0xc3, 10, 1, 2, 3]);
    // Bytes that are no UTF-8 become U+FFFD; the line ends are still where the newlines were.
    expect(split([garbage], 100)).toEqual({ lines: ['\u0000\uFFFD\uFFFD', '\uFFFD', '\u0001\u0002\u0003'], oversize: 0 });
  });
});

describe('a log read from a file', () => {
  const read = async (path: string) => {
    const lines: string[] = [];
    let bytesRead = 0;
    for await (const batch of readLineBatches(openLog(path))) {
      lines.push(...batch.lines);
      bytesRead = batch.bytesRead;
    }
    return { lines, bytesRead };
  };

  // Several 64 KiB chunks, lines cut at their edges, a gzipped copy.
  it('gives every line once, whole, with the bytes read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knockwatch-read-'));
    try {
      const expected = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}`);
      const text = `${expected.join('\n')}\n`;
      writeFileSync(join(dir, 'log'), text);
      writeFileSync(join(dir, 'log.gz'), gzipSync(text));
      expect(await read(join(dir, 'log'))).toEqual({ lines: expected, bytesRead: Buffer.byteLength(text) });
      expect((await read(join(dir, 'log.gz'))).lines).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails as the stream for a file that is not there', async () => {
    await expect(read('/nonexistent/knockwatch.log')).rejects.toThrow(/ENOENT/);
  });
});
