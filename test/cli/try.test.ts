import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stamp(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace('Z', '000+00:00');
}

// `knockwatch try` with the dry-run firewall recording to a file, a terminal the test types
// into, and signals the test sends.
function start(timeout = '30'): {
  dir: string; log: string; authLog: string; stdin: PassThrough; signals: EventEmitter; out: () => string; record: () => string[]; exit: Promise<number>;
} {
  const dir = mkdtempSync(join(tmpdir(), 'kw-try-'));
  dirs.push(dir);
  const log = join(dir, 'kern.log');
  const authLog = join(dir, 'auth.log');
  writeFileSync(log, '');
  writeFileSync(authLog, '');
  const config = join(dir, 'knockwatch.ini');
  writeFileSync(config, '[options]\nfirewall = dry-run\nlog_prefix = KNOCK\nwhitelist = 192.0.2.0/24\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 60\n');
  const stdin = new PassThrough();
  const signals = new EventEmitter();
  let stdout = '';
  const record = join(dir, 'record');
  const exit = main(['try', '--config', config, '--log', log, '--auth-log', authLog, '--state-file', join(dir, 'state.json'), '--record', record, '--timeout', timeout],
    { stdout: { write: (text) => { stdout += text; } }, stderr: { write: () => undefined }, env: {}, stdin, signals });
  return { dir, log, authLog, stdin, signals, exit, out: () => stdout, record: () => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : []) };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function knock(src: string): string {
  const line = (ms: number, port: number): string => `${stamp(ms)} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=4${port} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 \n`;
  return line(0, 7000) + line(100, 8000);
}

const login = (src: string): string => `${stamp(200)} gate sshd[4242]: Accepted publickey for admin from ${src} port 50000 ssh2: ED25519 SHA256:u5Jq0wWxN7b0Cz3dC6vQ2lH0wYl9mK3xJ8q3n0p1rTk\n`;

describe('knockwatch try', () => {
  it('keeps everything when a new SSH login comes from an address that knocked, then runs on', async () => {
    const t = start();
    await until('the instructions', () => t.out().includes('knockwatch is on'));
    expect(t.out()).toContain('From another terminal or machine, knock and log in with a NEW SSH session.');
    appendFileSync(t.log, knock('203.0.113.7'));
    await until('the grant', () => t.record().includes('+203.0.113.7 open'));
    appendFileSync(t.authLog, login('203.0.113.7'));
    await until('the confirmation', () => t.out().includes('Confirmed by'));
    expect(t.out()).toContain('Confirmed by the SSH login of "admin" from 203.0.113.7 (knocked)');
    t.signals.emit('SIGTERM', 'SIGTERM');
    expect(await t.exit).toBe(0);
    expect(t.record()).not.toContain('remove');
    expect(t.record().at(-1)).toBe('stop');
  });

  it('does not take a login from an address that neither knocked nor is whitelisted', async () => {
    const t = start('2');
    await until('the instructions', () => t.out().includes('knockwatch is on'));
    appendFileSync(t.authLog, login('198.51.100.9'));
    expect(await t.exit).toBe(1);
    expect(t.out()).toContain('Not confirmed (no new SSH login within 2 s): removed everything knockwatch installed.');
    expect(t.record().at(-1)).toBe('remove');
  });

  it.each([
    { how: 'yes typed', act: (t: ReturnType<typeof start>) => t.stdin.write('yes\n'), kept: true, says: 'Confirmed by your "yes"' },
    { how: 'no typed', act: (t: ReturnType<typeof start>) => t.stdin.write('no\n'), kept: false, says: 'Not confirmed (you said no)' },
    { how: 'the terminal closed', act: (t: ReturnType<typeof start>) => t.stdin.end(), kept: false, says: 'Not confirmed (the terminal went away)' },
    { how: 'SIGHUP (hangup)', act: (t: ReturnType<typeof start>) => t.signals.emit('SIGHUP', 'SIGHUP'), kept: false, says: 'Not confirmed (the terminal went away)' },
    { how: 'Ctrl-C', act: (t: ReturnType<typeof start>) => t.signals.emit('SIGINT', 'SIGINT'), kept: false, says: 'Not confirmed (SIGINT)' },
  ])('$how: kept=$kept', async ({ act, kept, says }) => {
    const t = start();
    await until('the instructions', () => t.out().includes('knockwatch is on'));
    act(t);
    await until('the outcome', () => t.out().includes(says));
    if (kept) {
      expect(t.record()).not.toContain('remove');
      t.signals.emit('SIGTERM', 'SIGTERM');
      expect(await t.exit).toBe(0);
    } else {
      expect(await t.exit).toBe(1);
      expect(t.record().at(-1)).toBe('remove');
      const state = JSON.parse(readFileSync(join(t.dir, 'state.json'), 'utf8')) as { grants: unknown[] };
      expect(state.grants).toEqual([]);
    }
  });
});
