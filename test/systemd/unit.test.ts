import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

const unit = readFileSync(join(packageRoot(), 'systemd/knockwatch.service'), 'utf8');
const missing = missingPrerequisites(['systemd-analyze'], false);
explainSkip('systemd unit verification', missing);

describe('systemd/knockwatch.service', () => {
  it.skipIf(missing.length > 0)('is accepted by systemd-analyze verify without a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-unit-'));
    try {
      // verify checks that ExecStart exists: point it at this checkout's build.
      const copy = join(dir, 'knockwatch.service');
      writeFileSync(copy, unit.replaceAll('/usr/local/bin/knockwatch', join(packageRoot(), 'dist/src/cli/bin.js')));
      const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      expect(result.stderr.trim()).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    'After=network-online.target rsyslog.service nftables.service',
    'Restart=on-failure',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ReadWritePaths=/var/lib/knockwatch',
    'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'ExecReload=/bin/kill -HUP $MAINPID',
  ])('has %s', (directive) => {
    expect(unit.split('\n')).toContain(directive);
  });
});
