import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import type { StatusReport } from '../../src/runtime/control-types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// nft as a fake: every call succeeds, but calls matching `block` wait until released.
function gatedRunner(block: (input: string) => boolean): { runner: CommandRunner; calls: string[]; blocked: () => boolean; release: () => void } {
  const calls: string[] = [];
  let waiting: (() => void) | undefined;
  let released = false;
  return {
    calls,
    blocked: () => waiting !== undefined,
    release: () => {
      released = true;
      waiting?.();
    },
    runner: {
      run: async (file, args, options) => {
        const text = [file, ...args, options?.input ?? ''].join(' ');
        calls.push(text);
        if (!released && block(text)) await new Promise<void>((resolve) => { waiting = resolve; });
        return { exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' };
      },
    },
  };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function setup(): { dir: string; argv: string[]; state: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kw-signals-'));
  dirs.push(dir);
  const log = join(dir, 'kern.log');
  writeFileSync(log, '');
  const config = join(dir, 'knockwatch.ini');
  // Its own control socket: daemons of tests running side by side must not meet there.
  writeFileSync(config, `[options]\nfirewall = nftables\nlog_prefix = KNOCK\ncontrol_socket = ${join(dir, 'control.sock')}\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\n`);
  const state = join(dir, 'state.json');
  return { dir, log, state, argv: ['run', '--config', config, '--log', log, '--state-file', state] };
}

function knockLines(src: string): string {
  const line = (ms: number, port: number): string => `${new Date(Date.now() + ms).toISOString().replace('Z', '000+00:00')} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=4${port} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 \n`;
  return line(0, 7000) + line(100, 8000);
}

describe('the daemon and signals', () => {
  it('keeps a SIGHUP and a SIGTERM that come while it installs its ruleset, then stops cleanly', async () => {
    const { argv, state } = setup();
    const signals = new EventEmitter();
    const gate = gatedRunner((text) => text.includes(' -f -') && text.includes('table inet knockwatch {'));
    let stderr = '';
    const exit = main(argv, { stdout: { write: () => undefined }, stderr: { write: (text) => { stderr += text; } }, env: {}, signals, runner: gate.runner });
    await until('the ruleset install to start', gate.blocked);
    // The handlers are there before the first firewall change; the default action would kill.
    expect(signals.listenerCount('SIGHUP')).toBe(1);
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    signals.emit('SIGHUP', 'SIGHUP');
    signals.emit('SIGTERM', 'SIGTERM');
    gate.release();
    expect(await exit).toBe(0);
    expect(stderr).toContain('Stopping on SIGTERM.');
    expect(stderr).toContain('Stopped.');
    expect(existsSync(state)).toBe(true);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('stops cleanly on SIGTERM during a firewall call: the call finishes, the grant is saved, exit 0', async () => {
    const { argv, state, log, dir } = setup();
    const signals = new EventEmitter();
    const gate = gatedRunner((text) => text.includes('add element inet knockwatch'));
    let stderr = '';
    const exit = main(argv, { stdout: { write: () => undefined }, stderr: { write: (text) => { stderr += text; } }, env: {}, signals, runner: gate.runner });
    await until('the daemon to start', () => stderr.includes('Started with'));
    appendFileSync(log, knockLines('203.0.113.7'));
    await until('the grant to be applied', gate.blocked);
    signals.emit('SIGTERM', 'SIGTERM');
    await until('the stop to begin', () => stderr.includes('Stopping on SIGTERM.'));
    // The daemon still answers on its control socket: a round trip through its event loop
    // after the signal, with the grant's change still in flight and the daemon not stopped.
    let answer = '';
    const asked = await main(['status', '--json', '--control-socket', join(dir, 'control.sock')], { stdout: { write: (text) => { answer += text; } }, stderr: { write: () => undefined }, env: {} });
    expect(asked).toBe(0);
    const report = JSON.parse(answer) as StatusReport;
    expect([report.firewall.pending, report.pipeline.grants.map((grant) => grant.src)]).toEqual([1, ['203.0.113.7']]);
    expect(stderr).not.toContain('Stopped.');
    gate.release();
    expect(await exit).toBe(0);
    // The call in flight finishes and is reported before the daemon is done.
    expect(stderr).toMatch(/Stopping on SIGTERM\.[\s\S]*Opened 22\/tcp for 203\.0\.113\.7[\s\S]*Stopped\./);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { grants: { src: string }[] };
    expect(saved.grants.map((grant) => grant.src)).toEqual(['203.0.113.7']);
  });
});
