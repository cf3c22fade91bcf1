import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { deriveSequence } from '../../src/doors/rotating.js';

const SECRET = 'never-print-this-9d1c';
const HOUR = 1_699_999_200;
const dir = mkdtempSync(join(tmpdir(), 'kw-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const secretFile = join(dir, 'openssh.secret');
writeFileSync(secretFile, `${SECRET}\n`);
chmodSync(secretFile, 0o600);
const configFile = join(dir, 'knockwatch.ini');
writeFileSync(configFile, `[options]\nfirewall = dry-run\nkernel_source = file:${join(dir, 'kern.log')}\nauth_source = none\n[openSSH]\nsecret_file = ${secretFile}\nport_range = 10000-10999\n`);
writeFileSync(join(dir, 'kern.log'), '');

async function check(...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['check', '--config', configFile, ...flags], {
    stdout: { write: (text: string) => { stdout += text; } },
    stderr: { write: (text: string) => { stderr += text; } },
    env: {}, clock: { now: () => HOUR * 1000 + 60_000 },
  });
  return { code, stdout, stderr };
}

const sequence = (offset: number): string => deriveSequence({ secret: Buffer.from(SECRET), door: 'openSSH', windowStart: HOUR + offset * 3600, range: { low: 10000, high: 10999 }, length: 5, protocols: ['tcp'] })
  .map((step) => `${step.port}/${step.proto}`).join(', ');

describe('knockwatch check and rotating doors', () => {
  it('prints neither the secret nor any sequence by default', async () => {
    const result = await check();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  port_range         10000-10999: 5 distinct TCP ports per 3600s window (hmac), skew 1 window');
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(result.stdout).not.toContain(sequence(0));
    expect(result.stdout).not.toMatch(/^ {2}current/m);
  });

  it('prints the current and next sequences with --show-secrets, never the secret itself', async () => {
    const result = await check('--show-secrets');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter((line) => /^ {2}(current|next) /.test(line))).toEqual([
      `  current            ${sequence(0)} (window from 2023-11-14T22:00:00.000Z)`,
      `  next               ${sequence(1)} (window from 2023-11-14T23:00:00.000Z)`,
    ]);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });
});
