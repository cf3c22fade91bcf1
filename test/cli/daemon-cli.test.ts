import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-cli-daemon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BIN = join(packageRoot(), 'dist/src/cli/bin.js');

describe('knockwatch init', () => {
  it('writes a commented starter config that loads, and never overwrites one', async () => {
    const path = join(dir, 'etc/knockwatch.ini');
    const first = await cli('init', '--config', path);
    expect(first.code).toBe(0);
    expect(loadConfigFile(path).doors.map((door) => door.name)).toEqual(['openSSH', 'closeSSH']);
    expect(readFileSync(path, 'utf8')).toContain('; Addresses and networks that may always connect');
    const again = await cli('init', '--config', path);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists; not overwriting it (use --force');
    expect((await cli('init', '--config', path, '--force')).code).toBe(0);
  });
});

describe('knockwatch run', () => {
  it('says how to make a config when there is none', async () => {
    const result = await cli('run', '--config', join(dir, 'missing.ini'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no config at ${join(dir, 'missing.ini')}: create one with "knockwatch init`);
  });

  it('refuses a bad config before touching anything', async () => {
    const path = join(dir, 'bad.ini');
    writeFileSync(path, '[options]\nfirewall = nftables\n[d]\nsequence = 1,2\nopen = 22/sctp\n');
    const result = await cli('run', '--config', path, '--log', join(dir, 'kern.log'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[d] open: expected tcp or udp after "22/"');
  });

  it('exits 1 with the reason when the firewall cannot be installed', () => {
    const path = join(dir, 'nft.ini');
    writeFileSync(path, '[options]\nfirewall = nftables\n[d]\nsequence = 1,2\n');
    writeFileSync(join(dir, 'kern.log'), '');
    const result = spawnSync(process.execPath, [BIN, 'run', '--config', path, '--log', join(dir, 'kern.log'), '--state-file', join(dir, 'state.json')],
      { encoding: 'utf8', env: { PATH: '/nonexistent' }, timeout: 20_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('knockwatch: cannot start; the firewall was not changed:');
    expect(result.stderr).toMatch(/nft.* not found/);
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
  });
});

describe('knockwatch check', () => {
  it('prints exactly the ruleset the daemon would install', async () => {
    const path = join(dir, 'check.ini');
    writeFileSync(path, '[options]\nfirewall = nftables\nwhitelist = 192.0.2.10\n[d]\nsequence = 7000,8000\nopen = 22/tcp\n');
    writeFileSync(join(dir, 'kern.log'), '');
    const result = await cli('check', '--config', path, '--log', join(dir, 'kern.log'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Firewall plan (nftables; not applied):');
    expect(result.stdout).toContain('table inet knockwatch {');
    expect(result.stdout).toContain('tcp dport { 7000, 8000 } log prefix "knockwatch " drop comment "knockwatch:knock"');
    expect(result.stdout).toContain('elements = { 192.0.2.10/32 }');
    const iptables = await cli('check', '--config', path, '--log', join(dir, 'kern.log'), '--firewall', 'iptables');
    expect(iptables.stdout).toContain('# iptables-restore --noflush -w');
    expect(iptables.stdout).toContain('-A KNOCKWATCH -p tcp -m tcp --dport 22 -m comment --comment knockwatch:gate -j DROP');
  });
});

describe('output to a reader that goes away', () => {
  it('ends quietly, as `knockwatch replay ... | head -1` expects', async () => {
    const { spawn } = await import('node:child_process');
    // A log long enough that the writer is still busy when the reader leaves.
    const log = join(dir, 'long.log');
    const one = readFileSync(join(packageRoot(), 'logs-samples/kern.log'), 'utf8');
    writeFileSync(log, one.repeat(2000));
    const child = spawn(process.execPath, [BIN, 'replay', '-v', log], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});
