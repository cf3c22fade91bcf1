import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../src/cli/control-client.js';
import { main } from '../../src/cli/main.js';
import { serveControl } from '../../src/cli/run-command.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { startControlServer } from '../../src/runtime/control-socket.js';
import type { ControlResult, ControlTarget, StatusReport } from '../../src/runtime/control-types.js';
import { packageRoot } from '../../src/runtime/package-paths.js';

// Ban times are printed on the local clock.
const zone = process.env.TZ;
beforeAll(() => { process.env.TZ = 'UTC'; });
afterAll(() => { process.env.TZ = zone; });

const dir = mkdtempSync(join(tmpdir(), 'kw-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SOCKET = join(dir, 'control.sock');

const T = Date.UTC(2026, 10, 22, 10, 0, 0);
const REPORT: StatusReport = {
  pid: 4242,
  now: T,
  startedAt: T - (2 * 3600 + 3 * 60 + 4) * 1000,
  config: '/etc/knockwatch/knockwatch.ini',
  firewall: { backend: 'nftables', lastVerify: { at: T - 1500, ok: true }, pending: 2 },
  sources: [
    { name: '/var/log/kern.log', kind: 'file', position: { dev: 2049, ino: 131, offset: 52311, firstLineHash: '9f86d081884c7d659a2feaa0c55ad015' }, lag: 120, lastLineAt: T - 3000 },
    { name: '/var/log/auth.log', kind: 'file', position: undefined, lag: undefined, lastLineAt: undefined },
  ],
  pipeline: {
    now: T - 3000,
    grants: [
      { src: '203.0.113.7', door: 'openSSH', ports: [{ port: 22, proto: 'tcp' }], opened: T - 5000, expires: T + 25_000 },
      { src: '2001:db8::1', door: 'web', ports: [{ port: 80, proto: 'tcp' }, { port: 443, proto: 'tcp' }], opened: T - 60_000, expires: Infinity },
    ],
    bans: [{ src: '198.51.100.9', until: T + 570_000, offenses: 2 }],
    attempts: [{ door: 'openSSH', sources: ['192.0.2.50', '192.0.2.51'] }, { door: 'web', sources: [] }],
    tracked: 2,
    stats: { lines: 1000, knocks: 30, sshEvents: 4, invalid: 1, stale: 2, evicted: 3, evictedAttempts: 4, opens: 2, closes: 1, bans: 1 },
  },
};
// What arrives over the socket: JSON, where a grant until closed expires at null.
const WIRE_REPORT = JSON.parse(JSON.stringify(REPORT)) as unknown;

const STATUS = [
  'knockwatch running (pid 4242) for 2 h 3 min, config /etc/knockwatch/knockwatch.ini',
  'firewall nftables: last verify ok 2 s ago, 2 changes pending',
  'sources: 2',
  '  /var/log/kern.log (file): at dev 2049, ino 131, offset 52311, firstLineHash 9f86d081884c7d65…, lag 120 bytes, last line 3 s ago',
  '  /var/log/auth.log (file): no position yet, lag unknown, no line yet',
  'grants: 2',
  '  203.0.113.7  openSSH  22/tcp          expires in 25 s',
  '  2001:db8::1  web      80/tcp,443/tcp  until closed',
  'bans: 1',
  '  198.51.100.9  until 2026-11-22 10:09:30.000 (in 9 min 30 s)  2 offenses',
  'attempts in progress: 2 sources tracked',
  '  openSSH  2',
  '  web      0',
  'since start: lines 1000, knocks 30, opens 2, closes 1, bans 1, invalid 1, stale 2',
  'evicted: 3 sources (4 attempts in progress dropped) to stay under max_tracked and max_first_steps',
];

interface FakeClient extends ControlClient {
  sent: object[];
}

function answering(answer: unknown): FakeClient {
  const sent: object[] = [];
  return { sent, request: async (message) => { sent.push(message); return answer; } };
}

function failing(code: string): FakeClient {
  const sent: object[] = [];
  return {
    sent,
    request: async (message) => {
      sent.push(message);
      throw Object.assign(new Error(`connect ${code} ${SOCKET}`), { code });
    },
  };
}

async function run(argv: string[], control?: ControlClient): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text) => { stdout += text; } },
    stderr: { write: (text) => { stderr += text; } },
    env: {},
    ...(control === undefined ? {} : { control }),
  });
  return { code, stdout, stderr };
}

describe('knockwatch status', () => {
  it('prints the firewall, sources, grants, bans, attempts and counters', async () => {
    const client = answering(WIRE_REPORT);
    const result = await run(['status', '--control-socket', SOCKET], client);
    expect(result).toEqual({ code: 0, stdout: `${STATUS.join('\n')}\n`, stderr: '' });
    expect(client.sent).toEqual([{ op: 'status' }]);
  });

  it('names the sources of attempts in progress with -v', async () => {
    const result = await run(['status', '-v', '--control-socket', SOCKET], answering(WIRE_REPORT));
    expect(result.stdout.split('\n').slice(11, 13)).toEqual(['  openSSH  2  192.0.2.50 192.0.2.51', '  web      0']);
  });

  it('says when the firewall was never verified or the last verify failed', async () => {
    const unverified = { ...REPORT, firewall: { backend: 'iptables', lastVerify: undefined, pending: 1 } };
    const failed = { ...REPORT, firewall: { backend: 'iptables', lastVerify: { at: T - 125_000, ok: false }, pending: 0 } };
    expect((await run(['status', '--control-socket', SOCKET], answering(JSON.parse(JSON.stringify(unverified))))).stdout.split('\n')[1])
      .toBe('firewall iptables: not verified yet, 1 change pending');
    expect((await run(['status', '--control-socket', SOCKET], answering(JSON.parse(JSON.stringify(failed))))).stdout.split('\n')[1])
      .toBe('firewall iptables: last verify FAILED 2 min 5 s ago, 0 changes pending');
  });

  it('prints the report as one JSON line with --json', async () => {
    const result = await run(['status', '--json', '--control-socket', SOCKET], answering(WIRE_REPORT));
    expect(result.code).toBe(0);
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(result.stdout.trimEnd().split('\n').map((text) => JSON.parse(text) as unknown)).toEqual([WIRE_REPORT]);
  });

  it('reports an error answer in one line and exits 1', async () => {
    const result = await run(['status', '--control-socket', SOCKET], answering({ ok: false, error: 'the daemon could not answer: starting' }));
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'knockwatch: the daemon could not answer: starting\n' });
  });
  it('says 0 dropped attempts for an older daemon whose report has no such count', async () => {
    const { evictedAttempts: _, ...older } = REPORT.pipeline.stats;
    const report = { ...REPORT, pipeline: { ...REPORT.pipeline, stats: older } };
    const result = await run(['status', '--control-socket', SOCKET], answering(JSON.parse(JSON.stringify(report))));
    expect(result.stdout.split('\n').at(-2)).toBe('evicted: 3 sources (0 attempts in progress dropped) to stay under max_tracked and max_first_steps');
  });
});

describe('knockwatch unban and close', () => {
  it('send the request with the address in canonical form and print the answer', async () => {
    const unban = answering({ ok: true, message: 'Lifted the ban on 2001:db8::1.' });
    expect(await run(['unban', '2001:DB8:0::1', '--control-socket', SOCKET], unban)).toEqual({ code: 0, stdout: 'Lifted the ban on 2001:db8::1.\n', stderr: '' });
    expect(unban.sent).toEqual([{ op: 'unban', src: '2001:db8::1' }]);
    const close = answering({ ok: true, message: 'Closed.' });
    expect((await run(['close', '203.0.113.7', 'openSSH', '--control-socket', SOCKET], close)).code).toBe(0);
    expect((await run(['close', '203.0.113.7', '--control-socket', SOCKET], close)).code).toBe(0);
    expect(close.sent).toEqual([{ op: 'close', src: '203.0.113.7', door: 'openSSH' }, { op: 'close', src: '203.0.113.7' }]);
  });

  it('exit 1 with the daemon\'s reason when it refuses', async () => {
    const result = await run(['unban', '192.0.2.1', '--control-socket', SOCKET], answering({ ok: false, error: '192.0.2.1 is not banned' }));
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'knockwatch: 192.0.2.1 is not banned\n' });
  });

  // Mistakes on the command line never reach the daemon.
  it.each([
    [['unban', '192.0.2.01'], '"192.0.2.01" is not an IPv4 or IPv6 address'],
    [['unban'], 'unban takes one address (found 0 arguments)'],
    [['close', '192.0.2.1', 'a', 'b'], 'close takes an address and optionally a door (found 3 arguments)'],
    [['close', 'example.org'], '"example.org" is not an IPv4 or IPv6 address'],
    [['status', 'now'], 'status takes no arguments (found "now")'],
  ])('%j is a usage error', async (argv, message) => {
    const client = answering({ ok: true, message: 'no' });
    const result = await run([...argv, '--control-socket', SOCKET], client);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`knockwatch: ${message}`);
    expect(client.sent).toEqual([]);
  });
});

describe('a daemon that cannot be asked', () => {
  // One line on stderr, nothing on stdout, exit 1, for every command.
  it.each([
    ['ENOENT', ['status'], `knockwatch is not running (no daemon answers on ${SOCKET})`],
    ['ECONNREFUSED', ['status', '--json'], `knockwatch is not running (no daemon answers on ${SOCKET})`],
    ['ENOENT', ['unban', '192.0.2.1'], `knockwatch is not running (no daemon answers on ${SOCKET})`],
    ['ECONNREFUSED', ['close', '192.0.2.1', 'openSSH'], `knockwatch is not running (no daemon answers on ${SOCKET})`],
    ['EACCES', ['status'], `knockwatch: permission denied on ${SOCKET}: run as root`],
    ['EACCES', ['unban', '192.0.2.1'], `knockwatch: permission denied on ${SOCKET}: run as root`],
    ['EACCES', ['close', '192.0.2.1'], `knockwatch: permission denied on ${SOCKET}: run as root`],
  ])('%s on %j', async (code, argv, message) => {
    expect(await run([...argv, '--control-socket', SOCKET], failing(code))).toEqual({ code: 1, stdout: '', stderr: `${message}\n` });
  });
});

describe('the socket path', () => {
  it('comes from control_socket of --config, else the default', async () => {
    const config = join(dir, 'with-socket.ini');
    writeFileSync(config, '[options]\ncontrol_socket = /run/kw-test/other.sock\n[d]\nsequence = 7000,8000\n');
    expect((await run(['status', '--config', config], failing('ENOENT'))).stderr).toBe('knockwatch is not running (no daemon answers on /run/kw-test/other.sock)\n');
    const plain = join(dir, 'plain.ini');
    writeFileSync(plain, '[options]\n[d]\nsequence = 7000,8000\n');
    expect((await run(['unban', '192.0.2.1', '--config', plain], failing('ENOENT'))).stderr).toBe('knockwatch is not running (no daemon answers on /run/knockwatch/control.sock)\n');
  });

  // The daemon reads `[options] ; ...` as [options]: so does the command that looks for it.
  it('is found under an [options] header that carries a comment', async () => {
    const config = join(dir, 'header-comment.ini');
    writeFileSync(config, '[d]\nsequence = 7000,8000\n[options]   ; the daemon\'s\ncontrol_socket = /run/kw-test/commented.sock\n');
    expect((await run(['status', '--config', config], failing('ENOENT'))).stderr).toBe('knockwatch is not running (no daemon answers on /run/kw-test/commented.sock)\n');
  });

  it('is found in a config that is otherwise being edited (a door half written)', async () => {
    const config = join(dir, 'mid-edit.ini');
    writeFileSync(config, '[options]\nCONTROL_SOCKET = /run/kw-test/edited.sock\nlog_prefix = \ntrap_ports[] = 7500\n[d]\nsequence = 7000,\n[half]\n');
    expect(await run(['close', '192.0.2.1', '--config', config], failing('ENOENT'))).toEqual({
      code: 1, stdout: '', stderr: 'knockwatch is not running (no daemon answers on /run/kw-test/edited.sock)\n',
    });
  });

  it('needs a readable --config, said as for every other command', async () => {
    const missing = join(dir, 'missing.ini');
    const client = answering(WIRE_REPORT);
    const result = await run(['status', '--config', missing], client);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${missing}: expected a readable config file, found "no such file"`);
    expect(client.sent).toEqual([]);
  });

  it('must be absolute in the config', async () => {
    const config = join(dir, 'relative.ini');
    writeFileSync(config, '[options]\ncontrol_socket = run/control.sock\n[d]\nsequence = 7000,8000\n');
    const result = await run(['status', '--config', config], answering(WIRE_REPORT));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[options] control_socket: expected an absolute path of at most 107 bytes for a Unix socket, found "run/control.sock"');
  });
});

describe('over a real socket', () => {
  const target: ControlTarget & { unbanned: string[] } = {
    unbanned: [],
    status: () => REPORT,
    async unban(src): Promise<ControlResult> {
      this.unbanned.push(src);
      return { ok: true, message: `Lifted the ban on ${src}.` };
    },
    close: async () => ({ ok: false, error: 'no grant' }),
  };

  it('status and unban reach the daemon', async () => {
    const server = await startControlServer(target, join(dir, 'real.sock'));
    try {
      expect(await run(['status', '--control-socket', server.path])).toEqual({ code: 0, stdout: `${STATUS.join('\n')}\n`, stderr: '' });
      expect(await run(['unban', '198.51.100.9', '--control-socket', server.path])).toEqual({ code: 0, stdout: 'Lifted the ban on 198.51.100.9.\n', stderr: '' });
      expect(await run(['close', '198.51.100.9', '--control-socket', server.path])).toEqual({ code: 1, stdout: '', stderr: 'knockwatch: no grant\n' });
      expect(target.unbanned).toEqual(['198.51.100.9']);
    } finally {
      await server.close();
    }
  });

  it('no socket, or a socket nobody answers on: not running', async () => {
    const missing = join(dir, 'missing.sock');
    expect(await run(['status', '--control-socket', missing])).toEqual({ code: 1, stdout: '', stderr: `knockwatch is not running (no daemon answers on ${missing})\n` });
    const stale = join(dir, 'stale.sock');
    const old = createServer();
    await new Promise<void>((resolve) => old.listen(join(dir, 'old.sock'), resolve));
    linkSync(join(dir, 'old.sock'), stale);
    await new Promise((resolve) => old.close(resolve));
    expect(await run(['status', '--control-socket', stale])).toEqual({ code: 1, stdout: '', stderr: `knockwatch is not running (no daemon answers on ${stale})\n` });
  });

  // The kernel refuses a connect to a 0600 root socket for anyone else: checked with a real
  // unprivileged process, which needs root to start.
  const BIN = join(packageRoot(), 'dist/src/cli/bin.js');
  it.skipIf(process.getuid?.() !== 0)('does not ask a socket that belongs to another user than root', async () => {
    const target: ControlTarget = { status: () => REPORT, unban: async () => ({ ok: true, message: 'yes' }), close: async () => ({ ok: true, message: 'yes' }) };
    const server = await startControlServer(target, join(dir, 'foreign', 'control.sock'));
    try {
      chownSync(server.path, 65534, 65534);
      expect(await run(['unban', '192.0.2.1', '--control-socket', server.path])).toEqual({
        code: 1, stdout: '',
        stderr: `knockwatch: ${server.path} belongs to uid 65534, not root; not asking it (is control_socket in a directory others can write?)\n`,
      });
    } finally {
      await server.close();
    }
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv'))('a user other than root gets the permission error and nothing else', async () => {
    const open = mkdtempSync(join(tmpdir(), 'kw-status-nobody-'));
    chmodSync(open, 0o755);
    const server = await startControlServer(target, join(open, 'control.sock'));
    try {
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'status', '--control-socket', server.path]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => { stdout += String(chunk); });
        child.stderr.on('data', (chunk) => { stderr += String(chunk); });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(result).toEqual({ code: 1, stdout: '', stderr: `knockwatch: permission denied on ${server.path}: run as root\n` });
    } finally {
      await server.close();
      rmSync(open, { recursive: true, force: true });
    }
  });
});

describe('the daemon and its control socket', () => {
  const target: ControlTarget = { status: () => REPORT, unban: async () => ({ ok: false, error: 'no' }), close: async () => ({ ok: false, error: 'no' }) };

  it('run refuses to start, before any firewall command, while another knockwatch answers', async () => {
    const server = await startControlServer(target, join(dir, 'busy.sock'));
    try {
      const log = join(dir, 'kern.log');
      writeFileSync(log, '');
      const config = join(dir, 'busy.ini');
      writeFileSync(config, `[options]\nfirewall = nftables\nkern_log = ${log}\ncontrol_socket = ${server.path}\n[d]\nsequence = 7000,8000\n`);
      const calls: string[] = [];
      const runner: CommandRunner = { run: async (file, args) => { calls.push([file, ...args].join(' ')); return { exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }; } };
      let stderr = '';
      const code = await main(['run', '--config', config, '--state-file', join(dir, 'busy-state.json')], { stdout: { write: () => undefined }, stderr: { write: (text) => { stderr += text; } }, env: {}, runner });
      expect({ code, stderr }).toEqual({ code: 1, stderr: `knockwatch: cannot start; the firewall was not changed:\n  another knockwatch answers on ${server.path}; stop it first (two daemons would fight over the firewall)\n` });
      expect(calls).toEqual([]);
      expect(existsSync(join(dir, 'busy-state.json'))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('a socket that does not open is a warning, and one that does answers', async () => {
    const logged: string[] = [];
    const logger = { log: (level: string, message: string) => { logged.push(`${level} ${message}`); } };
    writeFileSync(join(dir, 'a-file'), '');
    expect(await serveControl(target, join(dir, 'a-file/control.sock'), logger)).toBe(undefined);
    expect(logged).toEqual([`warning The control socket did not open: EEXIST: file already exists, mkdir '${join(dir, 'a-file')}'; knockwatch status, unban and close will not answer.`]);
    const server = await serveControl(target, join(dir, 'served.sock'), logger);
    if (server === undefined || server === 'in use') throw new Error(`served.sock did not open: ${String(server)}`);
    try {
      expect(logged[1]).toBe(`info Answering status, unban and close on ${join(dir, 'served.sock')}.`);
      expect((await run(['status', '--json', '--control-socket', join(dir, 'served.sock')])).stdout).toBe(`${JSON.stringify(REPORT)}\n`);
    } finally {
      await server.close();
    }
  });

  it('refuses a socket in a directory other users can write to', async () => {
    const open = mkdtempSync(join(tmpdir(), 'kw-open-dir-'));
    chmodSync(open, 0o1777);
    try {
      await expect(startControlServer(target, join(open, 'control.sock'))).rejects.toThrow(`${open} can be written by users other than knockwatch's`);
      expect(existsSync(join(open, 'control.sock'))).toBe(false);
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });

  it('holds the socket while it starts: status says it is starting and a second run stops before any change', async () => {
    const log = join(dir, 'early.log');
    writeFileSync(log, '');
    const socket = join(dir, 'early.sock');
    const config = join(dir, 'early.ini');
    writeFileSync(config, `[options]\nfirewall = nftables\nkern_log = ${log}\ncontrol_socket = ${socket}\n[d]\nsequence = 7000,8000\n`);
    // The first daemon's firewall probe hangs until the test lets it go.
    let release = (): void => undefined;
    const hung = new Promise<void>((resolve) => { release = resolve; });
    const firstCalls: string[] = [];
    const first: CommandRunner = { run: async (file, args) => {
      firstCalls.push([file, ...args].join(' '));
      await hung;
      return { exitCode: 1, stdout: '', stderr: 'nft: probe refused by the test', failed: true, reason: 'probe refused by the test' };
    } };
    let firstErr = '';
    const running = main(['run', '--config', config, '--state-file', join(dir, 'early-1.json')], { stdout: { write: () => undefined }, stderr: { write: (text) => { firstErr += text; } }, env: {}, runner: first });
    const deadline = Date.now() + 5000;
    while (firstCalls.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(firstCalls.length).toBeGreaterThan(0);
    expect(await run(['status', '--control-socket', socket])).toEqual({
      code: 1, stdout: '', stderr: 'knockwatch: the daemon could not answer: knockwatch is starting; ask again in a moment.\n',
    });
    const secondCalls: string[] = [];
    const second: CommandRunner = { run: async (file, args) => { secondCalls.push([file, ...args].join(' ')); return { exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }; } };
    let secondErr = '';
    const code = await main(['run', '--config', config, '--state-file', join(dir, 'early-2.json')], { stdout: { write: () => undefined }, stderr: { write: (text) => { secondErr += text; } }, env: {}, runner: second });
    expect({ code, secondErr, secondCalls }).toEqual({
      code: 1, secondCalls: [],
      secondErr: `knockwatch: cannot start; the firewall was not changed:\n  another knockwatch answers on ${socket}; stop it first (two daemons would fight over the firewall)\n`,
    });
    release();
    // The first one's probe fails: it does not start, and its socket goes with it.
    expect(await running).toBe(1);
    expect(firstErr).toContain('cannot start; the firewall was not changed');
    expect(existsSync(socket)).toBe(false);
  });
});
