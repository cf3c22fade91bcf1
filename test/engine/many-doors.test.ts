import { describe, expect, it } from 'vitest';
import { describe as describeDecision, engineOf, knock } from '../helpers/engine.js';

// 33 doors whose first step is the same port: more than a first-step entry's 32-bit mask
// can name. The last one counts only knocks sent to another address, so a knock to the host
// starts the 32 others, all within the mask.
const doors = Array.from({ length: 33 }, (_, i) => `[d${i}]\nsequence = 7000,${8000 + i}\n${i === 32 ? 'destination = 192.0.2.99\n' : ''}`).join('');

function decided(firstSteps: boolean): string[] {
  const engine = engineOf(`[options]\nmax_first_steps = ${firstSteps ? 1000 : 0}\n${doors}`);
  const out = engine.handleKnock(knock({ port: '7000', at: 0 })).map(describeDecision);
  // past seq_timeout (25 s): every attempt started times out
  out.push(...engine.cleanup(30_000).map(describeDecision));
  return out.sort();
}

describe('a port shared by more doors than a first-step entry can name', () => {
  it('is decided as without the first-step table: no door that never started times out', () => {
    const expected = decided(false);
    expect(expected.filter((line) => line.startsWith('broken')).length).toBe(32);
    expect(expected.some((line) => line.includes(' d32 '))).toBe(false);
    expect(decided(true)).toEqual(expected);
  });

  // A reload that adds the 33rd door: what a first-step entry of the old config stood for is
  // carried over as it would be without the table.
  it('takes over an old first-step entry as without the first-step table', () => {
    const before = Array.from({ length: 32 }, (_, i) => `[d${i}]\nsequence = 7000,${8000 + i}\n`).join('');
    const reloaded = (firstSteps: boolean): string[] => {
      const old = engineOf(`[options]\nmax_first_steps = ${firstSteps ? 1000 : 0}\n${before}`);
      old.handleKnock(knock({ port: '7000', at: 0 }));
      const engine = engineOf(`[options]\nmax_first_steps = ${firstSteps ? 1000 : 0}\n${doors}`);
      engine.adoptAttempts(old);
      return engine.cleanup(30_000).map(describeDecision).sort();
    };
    const expected = reloaded(false);
    expect(expected.length).toBe(32);
    expect(reloaded(true)).toEqual(expected);
  });
});
