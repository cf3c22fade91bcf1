import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config, knock } from '../helpers/engine.js';

const A = '203.0.113.7';
const B = '198.51.100.1';
const CONFIG = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 10\n';

function pipelineOf(): { pipeline: Pipeline; decisions: Decision[] } {
  const decisions: Decision[] = [];
  return { pipeline: new Pipeline(config(CONFIG), (decision) => decisions.push(decision)), decisions };
}

describe('pipeline clock', () => {
  it('acts on a knock stamped exactly at ignoreBefore, and not on one a millisecond earlier', () => {
    const { pipeline } = pipelineOf();
    pipeline.ignoreBefore = 5000;
    pipeline.handleEvent(knock({ src: A, port: '7000', at: 4.999 }));
    pipeline.handleEvent(knock({ src: B, port: '7000', at: 5 }));
    expect(pipeline.stats).toMatchObject({ stale: 1, knocks: 1 });
    expect(pipeline.snapshot().attempts).toEqual([{ door: 'open', sources: [B] }]);
  });

  it('keeps its clock at the latest event when an older one comes after it', () => {
    const { pipeline } = pipelineOf();
    pipeline.handleEvent(knock({ src: A, port: '7000', at: 5 }));
    pipeline.handleEvent(knock({ src: B, port: '7000', at: 3 }));
    expect(pipeline.now).toBe(5000);
  });

  // Attempts nobody finishes are looked for at each whole second of log time (whichever
  // line moves the clock there), so a quiet source's timeout is reported at most a second late.
  it('reports attempts that ran out on the first move of the clock to a whole second after their end', () => {
    const { pipeline, decisions } = pipelineOf();
    const brokenAfter = (time: number): string[] => {
      const before = decisions.length;
      pipeline.advanceTo(time);
      return decisions.slice(before).map((d) => `${d.type} ${d.src} ${d.time}`);
    };
    // A's attempt runs out once 5.0 s have passed, B's once 5.5 s have; the first look is at 0.
    pipeline.handleEvent(knock({ src: A, port: '7000', at: 0 }));
    pipeline.handleEvent(knock({ src: B, port: '7000', at: 0.5 }));
    // The look at second 5 finds A's attempt at its last moment, not past it.
    expect(brokenAfter(5100)).toEqual([]);
    expect(brokenAfter(5999)).toEqual([]);
    expect(brokenAfter(6000)).toEqual([`broken ${A} 5000`, `broken ${B} 5500`]);
    expect(brokenAfter(7100)).toEqual([]);
  });

});
