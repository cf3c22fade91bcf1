import { describe, expect, it } from 'vitest';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import { FirewallVerifier, VERIFY_EVERY } from '../../src/runtime/firewall-verify.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config } from '../helpers/engine.js';

const pipeline = new Pipeline(config('[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\n'), () => undefined);

// A verifier whose backend's verify() waits until the test answers it.
function verifier(): { verify: FirewallVerifier; calls: string[]; answer: (ok: boolean) => void; asked: () => number } {
  const calls: string[] = [];
  const answers: ((ok: boolean) => void)[] = [];
  const backend = Object.assign(new DryRunBackend(), {
    verify: async () => { calls.push('verify'); return await new Promise<boolean>((resolve) => answers.push(resolve)); },
    start: async () => { calls.push('start'); },
  });
  const verify = new FirewallVerifier({
    clock: { now: () => 1000 }, emit: () => undefined, pipeline: () => pipeline, backend: () => backend,
    exclusive: async (work) => await work(),
  });
  verify.installed(0);
  return { verify, calls, answer: (ok) => answers.shift()?.(ok), asked: () => answers.length };
}

const turns = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('the ruleset verifier', () => {
  it('does not reinstall when the stop began while the comparison was running', async () => {
    const v = verifier();
    v.verify.tick(VERIFY_EVERY);
    await turns();
    expect(v.asked()).toBe(1);
    v.verify.end();
    v.answer(false);
    await turns();
    expect(v.calls).toEqual(['verify']);
    expect(v.verify.last).toEqual({ at: 1000, ok: false });
  });

  it('runs one comparison at a time: a tick while one runs starts none', async () => {
    const v = verifier();
    v.verify.tick(VERIFY_EVERY);
    v.verify.tick(2 * VERIFY_EVERY);
    await turns();
    expect(v.calls).toEqual(['verify']);
    v.answer(true);
    await turns();
    v.verify.tick(3 * VERIFY_EVERY);
    await turns();
    expect(v.calls).toEqual(['verify', 'verify']);
    v.answer(true);
  });
});

describe('the ruleset verifier with a backend that can check without holding changes back', () => {
  function checking(checkSays: boolean): { verify: FirewallVerifier; calls: string[] } {
    const calls: string[] = [];
    const backend = Object.assign(new DryRunBackend(), {
      check: async () => { calls.push('check'); return checkSays; },
      verify: async () => { calls.push('verify'); return true; },
    });
    const verify = new FirewallVerifier({
      clock: { now: () => 1000 }, emit: () => undefined, pipeline: () => pipeline, backend: () => backend,
      exclusive: async (work) => { calls.push('exclusive'); await work(); },
    });
    verify.installed(0);
    return { verify, calls };
  }

  it('reads alone when everything is in place: no exclusive turn, so queued grants do not wait', async () => {
    const v = checking(true);
    await v.verify.verify();
    expect(v.calls).toEqual(['check']);
    expect(v.verify.last).toEqual({ at: 1000, ok: true });
  });

  it('compares again in an exclusive turn when the read-only check saw a difference', async () => {
    const v = checking(false);
    await v.verify.verify();
    expect(v.calls).toEqual(['check', 'exclusive', 'verify']);
    expect(v.verify.last).toEqual({ at: 1000, ok: true });
  });
});
