import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const DAY = 86_400_000;
const noCommands: CommandRunner = { run: async () => ({ exitCode: 1, stdout: '', stderr: '', failed: true, reason: 'no commands in this test' }) };
const CONFIG = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\n';

const dirs: string[] = [];
const daemons: Daemon[] = [];
afterEach(() => {
  for (const daemon of daemons.splice(0)) daemon.halt();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function knockLines(at: number): string {
  return [7000, 8000].map((port, index) => `${new Date(at + index * 100).toISOString().replace('Z', '000+00:00')} gate kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${40000 + port} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 \n`).join('');
}

describe('daemon and lines stamped far from the host clock', () => {
  it('opens nothing for them and sums them up at most once a minute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-daemon-time-'));
    dirs.push(dir);
    const log = join(dir, 'kern.log');
    writeFileSync(log, '');
    writeFileSync(join(dir, 'knockwatch.ini'), CONFIG);
    let now = T0;
    const messages: string[] = [];
    const daemon = new Daemon(
      { configPath: join(dir, 'knockwatch.ini'), kernLog: log, stateFile: join(dir, 'state.json'), dryRunFile: join(dir, 'record') },
      {
        clock: { now: () => now }, runner: noCommands, logger: { log: (level, message) => messages.push(`${level} ${message}`) },
        filter: loadFilterFile(builtinFilterPath('netfilter')), authFilter: loadFilterFile(builtinFilterPath('sshd')),
      },
      loadConfigFile(join(dir, 'knockwatch.ini')),
    );
    daemons.push(daemon);
    await daemon.start();
    const feed = async (text: string): Promise<void> => {
      appendFileSync(log, text);
      daemon.poll();
      await daemon.settle();
    };
    const reports = (): string[] => messages.filter((message) => message.includes('too far from the host clock'));
    await feed(knockLines(T0 + DAY));
    expect(reports()).toEqual(['warning Not acting on 2 log lines stamped too far from the host clock (2 more than 60s ahead, 0 more than 10 min behind): forged lines, another program\'s lines or a clock step.']);
    now = T0 + 30_000;
    await feed(knockLines(T0 + DAY));
    expect(reports()).toHaveLength(1);
    // Twenty minutes on, a line from the first minute (knocks from before the start would be
    // stale instead).
    now = T0 + 20 * 60_000;
    await feed(knockLines(T0 + 60_000));
    expect(reports().at(-1)).toBe('warning Not acting on 4 log lines stamped too far from the host clock (2 more than 60s ahead, 2 more than 10 min behind): forged lines, another program\'s lines or a clock step.');
    expect(daemon.grants()).toEqual([]);
    expect(readFileSync(join(dir, 'record'), 'utf8').trim().split('\n')).toEqual(['start 0']);
  });
});
