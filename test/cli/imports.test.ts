import { describe, expect, it } from 'vitest';
import { importCycles } from '../helpers/import-graph.js';

describe('src/cli imports', () => {
  it('form no cycle (commands do not import main.ts, main.ts imports them)', () => {
    const cycles = importCycles('src/cli');
    expect(cycles.map((cycle) => cycle.join(' -> '))).toEqual([]);
  });
});
