import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = join(dir, 'kern.log');
writeFileSync(log, '');
mkdirSync(join(dir, 'a-directory'));
// Its own control socket: a daemon another test runs must not be taken for a second knockwatch.
const CONFIG = `[options]\nfirewall = nftables\ncontrol_socket = ${join(dir, 'control.sock')}\n[openSSH]\nsequence = 7000,8000,9000\nopen = 22/tcp\n`;

// A firewall that records every call; reading calls (list, -S, -C) are the only ones allowed
// before the daemon knows it can run.
function recorder(): { runner: CommandRunner; changes: () => string[] } {
  const calls: string[] = [];
  return {
    changes: () => calls.filter((call) => !/^(nft (-j )?list|nft --version|ip6?tables(-restore)? (-w )?(-S|-C|-L|--version))/.test(call)),
    runner: {
      run: async (file, args, options) => {
        calls.push([file.replace(/^.*\//, ''), ...args].join(' ') + (options?.input ? ` <<${options.input}` : ''));
        return { exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' };
      },
    },
  };
}

async function knockwatch(argv: string[], runner: CommandRunner): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await main(argv, { stdout: { write: () => undefined }, stderr: { write: (text) => { stderr += text; } }, env: {}, runner });
  return { code, stderr };
}

function configWith(name: string, extra: string): string {
  const path = join(dir, `${name}.ini`);
  writeFileSync(path, CONFIG.replace('[options]\n', `[options]\n${extra}`));
  return path;
}

describe('nothing changes until everything the daemon needs is known to work', () => {
  it.each([
    // A log that is not there, not a file, or an auth log that is missing (exit 1).
    { name: 'missing-log', extra: `kern_log = ${join(dir, 'nope.log')}\n`, args: [], code: 1, message: /kern_log .*nope\.log: no such file/ },
    { name: 'dir-log', extra: `kern_log = ${join(dir, 'a-directory')}\n`, args: [], code: 1, message: /kern_log .*a-directory: not a regular file/ },
    { name: 'missing-auth', extra: `kern_log = ${log}\nauth_log = ${join(dir, 'auth.nope')}\n`, args: [], code: 1, message: /auth_log .*auth\.nope: no such file/ },
    { name: 'missing-cli-log', extra: '', args: ['--log', join(dir, 'gone.log')], code: 1, message: /kern_log .*gone\.log: no such file/ },
  ])('$name: check and run both refuse with exit $code, and run changes no rule', async ({ name, extra, args, code, message }) => {
    const config = configWith(name, extra);
    const state = join(dir, `${name}.state.json`);
    const checked = recorder();
    const check = await knockwatch(['check', '--config', config, ...args], checked.runner);
    expect(check.code).toBe(code);
    expect(check.stderr).toMatch(message);
    const ran = recorder();
    const run = await knockwatch(['run', '--config', config, '--state-file', state, ...args], ran.runner);
    expect(run.code).toBe(code);
    expect(run.stderr).toContain('cannot start; the firewall was not changed');
    expect(run.stderr).toMatch(message);
    expect(ran.changes()).toEqual([]);
    expect(checked.changes()).toEqual([]);
    expect(existsSync(state)).toBe(false);
  });

  it('a config that can run passes check with exit 0 and starts', async () => {
    const check = await knockwatch(['check', '--config', configWith('good', `kern_log = ${log}\n`)], recorder().runner);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });
});
