import { describe, expect, it } from 'vitest';
import { chainTo, importCycles, reachable, sourceFiles } from '../helpers/import-graph.js';

// Config is a library: loading and validating a config must not pull in the firewall, the
// filters or the daemon's runtime, directly or through another module.
const FORBIDDEN = ['src/firewall/', 'src/filters/', 'src/runtime/', 'src/cli/', 'src/engine/', 'src/sources/'];

describe('src/config imports', () => {
  it('reach no module of firewall, filters, runtime, cli, engine or sources', () => {
    const found = reachable(sourceFiles('src/config'));
    const offending = [...found.keys()].filter((file) => FORBIDDEN.some((folder) => file.startsWith(folder)));
    expect(offending.map((file) => chainTo(found, file).join(' -> '))).toEqual([]);
  });

  it('are followed through the whole graph (the walk sees config and its neutral helpers)', () => {
    const found = [...reachable(sourceFiles('src/config')).keys()];
    expect(found).toContain('src/config/load-config.ts');
    expect(found).toContain('src/net/tcp-flags.ts');
    expect(found).toContain('src/text/split-command.ts');
    expect(found).toContain('src/text/time-zone.ts');
  });

  it('form no cycle', () => {
    expect(importCycles('src/config').map((cycle) => cycle.join(' -> '))).toEqual([]);
  });
});
