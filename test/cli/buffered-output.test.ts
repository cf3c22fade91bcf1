import { describe, expect, it } from 'vitest';
import { bufferedOutput } from '../../src/cli/output.js';

describe('bufferedOutput', () => {
  it('hands writes on in order, in pieces of about 64 KiB, and the rest on flush', () => {
    const writes: string[] = [];
    const out = bufferedOutput({ write: (text) => writes.push(text), isTTY: false });
    const line = `${'x'.repeat(99)}\n`;
    for (let i = 0; i < 1000; i++) out.write(line);
    expect(writes.map((text) => text.length)).toEqual([65_600]);
    out.flush();
    out.flush();
    expect(writes.map((text) => text.length)).toEqual([65_600, 34_400]);
    expect(writes.join('')).toBe(line.repeat(1000));
    expect(out.isTTY).toBe(false);
  });
});
