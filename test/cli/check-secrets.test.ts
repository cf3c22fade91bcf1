import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    // The firewall probe (nft -j list tables) answered without touching the firewall.
    runner: { run: async () => ({ exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }) },
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

  // The knock LOG rules of a rotating door hold the ports of its accepted windows: derived
  // from the secret, so they are counted by default and listed with --show-secrets only.
  describe('its knock ports in the log limit rules and the firewall plan', () => {
    const ports = (offset: number): string[] => sequence(offset).split(', ').map((step) => step.replace('/tcp', ''));
    const windowPorts = [...ports(-1), ...ports(0), ...ports(1)];
    const section = (stdout: string, title: string): string => stdout.slice(stdout.indexOf(title)).split('\n\n')[0] ?? '';
    const mentioned = (text: string): string[] => windowPorts.filter((port) => new RegExp(`\\b${port}\\b`).test(text));
    const NOTE = '[openSSH] logs the ports of its accepted windows (up to 15 ports of 10000-10999: 3 accepted windows of 5, turning every 1h), left out here: they are derived from its secret (--show-secrets shows them).';

    it('are counted, not listed, by default', async () => {
      const result = await check('--firewall', 'nftables');
      const limits = section(result.stdout, 'Log limit rules');
      expect(limits.split('\n').slice(-1)).toEqual([`  ${NOTE}`]);
      expect(section(result.stdout, 'Firewall plan').split('\n')[1]).toBe(`# ${NOTE}`);
      expect(mentioned(result.stdout)).toEqual([]);
    });

    it('are listed with --show-secrets', async () => {
      const result = await check('--firewall', 'nftables', '--show-secrets');
      const limits = section(result.stdout, 'Log limit rules');
      expect(mentioned(limits.split('\n').filter((text) => text.startsWith('  IPv4')).join('\n'))).toEqual(windowPorts);
      expect(mentioned(section(result.stdout, 'Firewall plan'))).toEqual(windowPorts);
    });

    it('a door bound to the source: its range', async () => {
      writeFileSync(configFile, readFileSync(configFile, 'utf8') + 'bind_source = yes\n');
      const result = await check('--firewall', 'nftables');
      expect(section(result.stdout, 'Log limit rules').split('\n').slice(-1)).toEqual(['  [openSSH] logs every port of 10000-10999 (1000 ports; bind_source: each address has its own sequence).']);
    });
  });
});
