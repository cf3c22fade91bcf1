import { afterEach, describe, expect, it } from 'vitest';
import { createDaemonLab, type DaemonLab } from '../helpers/daemon.js';
import { kernLine } from '../helpers/reload-race.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const X = '203.0.113.7';
const CONFIG = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\n';

const labs: DaemonLab[] = [];
afterEach(() => {
  for (const lab of labs.splice(0)) lab.cleanUp();
});

describe('reloads that overlap', () => {
  it('each keep the sources their config chose: the log is still read after both', async () => {
    const h = createDaemonLab(T0, CONFIG);
    labs.push(h);
    const daemon = h.daemon();
    await daemon.start();
    // The second reload prepares its config while the first one installs its ruleset.
    expect(await Promise.all([daemon.reload(), daemon.reload(), daemon.reload()])).toEqual([true, true, true]);
    expect(daemon.status().sources.map((source) => source.name)).toEqual([h.log]);
    await h.feed(daemon, kernLine(T0 + 100, X, '7000', 41000) + kernLine(T0 + 200, X, '8000', 41001));
    expect(daemon.grants().map((grant) => grant.src)).toEqual([X]);
  });
});
