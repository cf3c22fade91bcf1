import { describe, expect, it } from 'vitest';
import { decisionToJson } from '../../src/cli/format-decision.js';

describe('decisionToJson', () => {
  it('writes every time of a decision as an ISO stamp, the close time of a logout included', () => {
    const at = Date.UTC(2026, 10, 22, 9, 0, 0);
    const json = decisionToJson({ type: 'logout', time: at, src: '203.0.113.7', pid: 41, closeAt: at + 10_000.5 });
    expect(JSON.parse(json)).toEqual({ type: 'logout', time: '2026-11-22T09:00:00.000Z', src: '203.0.113.7', pid: 41, closeAt: '2026-11-22T09:00:10.000Z' });
  });

  it('writes a lifetime without end as null', () => {
    const at = Date.UTC(2026, 10, 22, 9, 0, 0);
    expect(JSON.parse(decisionToJson({ type: 'extend', time: at, src: '203.0.113.7', door: 'ssh', expires: Infinity }))).toEqual({
      type: 'extend', time: '2026-11-22T09:00:00.000Z', src: '203.0.113.7', door: 'ssh', expires: null,
    });
  });
});
