import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config, knock } from '../helpers/engine.js';

const A = '203.0.113.7';
const ini = (closeOnWrongKnock: string): string => `[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000,9000\nseq_timeout = 5\nopen_for = 60\n${closeOnWrongKnock}`;

function run(closeOnWrongKnock: string, ports: readonly string[]): string[] {
  const decisions: Decision[] = [];
  const pipeline = new Pipeline(config(ini(closeOnWrongKnock)), (decision) => decisions.push(decision));
  ports.forEach((port, index) => pipeline.handleEvent(knock({ src: A, port, at: 1 + index })));
  return decisions.filter((decision) => decision.type === 'open' || decision.type === 'extend' || decision.type === 'close')
    .map((decision) => `${decision.type}${decision.type === 'close' ? ` by ${decision.by}` : ''}`);
}

describe('the pipeline with close_on_wrong_knock', () => {
  it('closes the grant when its holder knocks a later step alone, and extends it on a correct re-knock', () => {
    expect(run('close_on_wrong_knock = yes\n', ['7000', '8000', '9000', '7000', '8000', '9000', '8000'])).toEqual(['open', 'extend', 'close by wrong-knock']);
  });

  it('leaves the grant alone without the option', () => {
    expect(run('', ['7000', '8000', '9000', '8000'])).toEqual(['open']);
  });
});
