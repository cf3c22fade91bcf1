import { describe as group, expect, it } from 'vitest';
import { KeyTable } from '../../src/engine/key-table.js';

group('key table', () => {
  it('finds each record by its key, and nothing for keys between, past or below them', () => {
    const table = new KeyTable(new Map([[7000, 'tcp 7000'], [65536 + 9000, 'udp 9000'], [0, 'zero']]));
    expect([0, 7000, 65536 + 9000].map((key) => table.get(key))).toEqual(['zero', 'tcp 7000', 'udp 9000']);
    expect([1, 6999, 7001, 65536 + 8999, 65536 + 9001, 131072 + 64].map((key) => table.get(key))).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('holds nothing when given nothing', () => {
    expect(new KeyTable(new Map<number, string>()).get(0)).toBeUndefined();
  });
});
