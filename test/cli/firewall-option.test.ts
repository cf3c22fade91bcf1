import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { cli } from '../helpers/cli.js';

const root = packageRoot();
const config = join(root, 'logs-samples/knockwatch.ini');
const kernLog = join(root, 'logs-samples/kern.log');

describe('--firewall names a kind knockwatch has', () => {
  // Every command that builds a firewall (or replays as if it did) refuses an unknown kind
  // before anything else happens.
  it.each([
    ['check', ['check', '--config', config, '--log', kernLog]],
    ['run', ['run', '--config', config, '--log', kernLog]],
    ['try', ['try', '--config', config, '--log', kernLog]],
    ['replay', ['replay', kernLog]],
  ])('%s --firewall bogus is a usage error listing the kinds', async (_command, argv) => {
    const result = await cli(...argv, '--firewall', 'bogus');
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'knockwatch: --firewall: expected nftables | iptables | command | dry-run, found "bogus"\nTry knockwatch --help.\n',
    });
  });

  it('check --firewall dry-run uses that kind', async () => {
    const result = await cli('check', '--config', config, '--log', kernLog, '--firewall', 'dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  firewall           dry-run (from --firewall)\n');
  });
});
