import { existsSync, linkSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlSocketInUse, startControlServer, type ControlServer, type ControlServerOptions } from '../../src/runtime/control-socket.js';
import type { ControlResult, ControlTarget, StatusReport } from '../../src/runtime/control-types.js';

const REPORT: StatusReport = {
  pid: 4242,
  now: 1_700_000_100_000,
  startedAt: 1_700_000_000_000,
  config: '/etc/knockwatch/knockwatch.ini',
  firewall: { backend: 'nftables', lastVerify: { at: 1_700_000_099_000, ok: true }, pending: 0 },
  sources: [{ name: '/var/log/kern.log', kind: 'file', position: { dev: 1, ino: 2, offset: 300, firstLineHash: 'ab' }, lag: 0, lastLineAt: 1_700_000_098_000 }],
  pipeline: {
    now: 1_700_000_098_000,
    grants: [{ src: '203.0.113.7', door: 'openSSH', ports: [{ port: 22, proto: 'tcp' }], opened: 1_700_000_090_000, expires: Infinity }],
    bans: [],
    attempts: [{ door: 'openSSH', sources: [] }],
    tracked: 0,
    stats: { lines: 10, knocks: 3, sshEvents: 0, invalid: 0, stale: 0, evicted: 0, evictedAttempts: 0, opens: 1, closes: 0, bans: 0 },
  },
};

interface FakeTarget extends ControlTarget {
  calls: string[];
}

function fakeTarget(overrides: Partial<ControlTarget> = {}): FakeTarget {
  const calls: string[] = [];
  return {
    calls,
    status: () => REPORT,
    unban: async (src): Promise<ControlResult> => {
      calls.push(`unban ${src}`);
      return { ok: true, message: `Lifted the ban on ${src}.` };
    },
    close: async (src, door): Promise<ControlResult> => {
      calls.push(`close ${src} ${door ?? '(every door)'}`);
      return door === 'nosuch' ? { ok: false, error: 'no door nosuch' } : { ok: true, message: `Closed ${door ?? 'every door'} for ${src}.` };
    },
    ...overrides,
  };
}

const dirs: string[] = [];
const servers: ControlServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-control-'));
  dirs.push(dir);
  return dir;
}

async function serve(target: ControlTarget, options: ControlServerOptions = {}, path = join(tempDir(), 'control.sock')): Promise<ControlServer> {
  const server = await startControlServer(target, path, options);
  servers.push(server);
  return server;
}

// Sends raw bytes and collects answer lines until `count` arrived or the server closed.
async function talk(path: string, payload: string | Buffer, count = 1): Promise<{ answers: unknown[]; closed: boolean }> {
  return await new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    const answers = (): unknown[] => text.split('\n').filter((part) => part !== '').map((part) => JSON.parse(part) as unknown);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer after 3 s: ${text}`));
    }, 3000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if ((text.match(/\n/g) ?? []).length >= count) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ answers: answers(), closed: false });
      }
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve({ answers: answers(), closed: true });
    });
    socket.write(payload);
  });
}

describe('the control socket', () => {
  it('answers status with the report, as JSON (a grant until closed expires at null)', async () => {
    const server = await serve(fakeTarget());
    const { answers } = await talk(server.path, '{"op":"status"}\n');
    expect(answers).toEqual([JSON.parse(JSON.stringify(REPORT))]);
    expect((answers[0] as StatusReport).pipeline.grants[0]?.expires).toBe(null);
  });

  it('passes unban and close to the daemon with the address in canonical form', async () => {
    const target = fakeTarget();
    const server = await serve(target);
    const requests = ['{"op":"unban","src":"2001:DB8:0::7"}', '{"op":"close","src":"203.0.113.7","door":"openSSH"}', '{"op":"close","src":"203.0.113.7"}', '{"op":"close","src":"203.0.113.7","door":"nosuch"}'];
    const { answers } = await talk(server.path, requests.map((request) => `${request}\n`).join(''), 4);
    expect(answers).toEqual([
      { ok: true, message: 'Lifted the ban on 2001:db8::7.' },
      { ok: true, message: 'Closed openSSH for 203.0.113.7.' },
      { ok: true, message: 'Closed every door for 203.0.113.7.' },
      { ok: false, error: 'no door nosuch' },
    ]);
    expect(target.calls).toEqual(['unban 2001:db8::7', 'close 203.0.113.7 openSSH', 'close 203.0.113.7 (every door)', 'close 203.0.113.7 nosuch']);
  });

  // Hostile or mistaken requests: an error answer, nothing reaches the daemon, and the
  // connection still answers the next request.
  it.each([
    ['not JSON', '{"op":', 'not JSON: expected one JSON object per line, such as {"op":"status"}'],
    ['an array', '["status"]', 'expected a JSON object such as {"op":"status"}'],
    ['a string', '"status"', 'expected a JSON object such as {"op":"status"}'],
    ['an unknown op', '{"op":"flush"}', '"op": expected status, unban or close, found "flush"'],
    ['no op', '{"src":"192.0.2.1"}', '"op": expected status, unban or close, found nothing'],
    ['an unknown field', '{"op":"status","verbose":true}', 'status: unknown field "verbose" (expected op)'],
    ['no address', '{"op":"unban"}', '"src": expected an IPv4 or IPv6 address, found nothing'],
    ['a number for an address', '{"op":"unban","src":3232235777}', '"src": expected an IPv4 or IPv6 address, found 3232235777'],
    ['an octal address', '{"op":"unban","src":"192.168.01.1"}', '"src": expected an IPv4 or IPv6 address, found "192.168.01.1"'],
    ['an address with more after it', '{"op":"close","src":"192.0.2.1 198.51.100.1"}', '"src": expected an IPv4 or IPv6 address, found "192.0.2.1 198.51.100.1"'],
    ['a network', '{"op":"unban","src":"192.0.2.0/24"}', '"src": expected an IPv4 or IPv6 address, found "192.0.2.0/24"'],
    ['a door that is not a string', '{"op":"close","src":"192.0.2.1","door":7}', '"door": expected a door name, found 7'],
    ['a door with a newline', '{"op":"close","src":"192.0.2.1","door":"a\\nb"}', '"door": expected a door name, found "a\\nb"'],
  ])('refuses %s', async (_what, request, error) => {
    const target = fakeTarget();
    const server = await serve(target);
    const { answers, closed } = await talk(server.path, `${request}\n{"op":"status"}\n`, 2);
    expect(answers).toEqual([{ ok: false, error }, JSON.parse(JSON.stringify(REPORT))]);
    expect(closed).toBe(false);
    expect(target.calls).toEqual([]);
  });

  it('shortens what it quotes back', async () => {
    const server = await serve(fakeTarget());
    const { answers } = await talk(server.path, `{"op":"unban","src":"${'1'.repeat(200)}"}\n`);
    expect(answers).toEqual([{ ok: false, error: `"src": expected an IPv4 or IPv6 address, found "${'1'.repeat(60)}...` }]);
  });

  it('answers a line longer than 4 KiB with an error and ends the connection, with or without its newline', async () => {
    const target = fakeTarget();
    const server = await serve(target);
    const long = `{"op":"unban","src":"${' '.repeat(5000)}192.0.2.1"}`;
    for (const payload of [long, `${long}\n`]) {
      expect(await talk(server.path, payload, 2)).toEqual({ answers: [{ ok: false, error: 'request longer than 4096 bytes' }], closed: true });
    }
    expect(target.calls).toEqual([]);
    // A request of 4096 bytes is still one.
    const fits = `{"op":"close","src":"192.0.2.1","door":"d"}`;
    expect((await talk(server.path, `${fits.padEnd(4096, ' ')}\n`)).answers).toEqual([{ ok: true, message: 'Closed d for 192.0.2.1.' }]);
  });

  it('answers an error when the daemon throws, and keeps serving', async () => {
    const server = await serve(fakeTarget({ status: () => { throw new Error('not started yet'); } }));
    expect((await talk(server.path, '{"op":"status"}\n')).answers).toEqual([{ ok: false, error: 'the daemon could not answer: not started yet' }]);
    expect((await talk(server.path, '{"op":"unban","src":"192.0.2.1"}\n')).answers).toEqual([{ ok: true, message: 'Lifted the ban on 192.0.2.1.' }]);
  });

  it('serves a few connections at a time and turns the next away', async () => {
    const server = await serve(fakeTarget(), { maxConnections: 2 });
    const held = [connect(server.path), connect(server.path)];
    await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    // The server counts a connection once it accepted it: one round trip on each makes sure.
    for (const socket of held) {
      socket.write('{"op":"unban","src":"192.0.2.1"}\n');
      await new Promise((resolve) => socket.once('data', resolve));
    }
    expect(await talk(server.path, '{"op":"status"}\n', 2)).toEqual({ answers: [{ ok: false, error: 'busy: at most 2 connections at a time' }], closed: true });
    held[0]?.destroy();
    // The server learns of the close a moment later; until then it may still say busy.
    const busy = [{ ok: false, error: 'busy: at most 2 connections at a time' }];
    let { answers } = await talk(server.path, '{"op":"status"}\n');
    for (let tries = 0; tries < 100 && JSON.stringify(answers) === JSON.stringify(busy); tries++) ({ answers } = await talk(server.path, '{"op":"status"}\n'));
    expect(answers).toEqual([JSON.parse(JSON.stringify(REPORT))]);
    held[1]?.destroy();
  });

  it('closes a connection that stays idle', async () => {
    const server = await serve(fakeTarget(), { idleTimeout: 100 });
    const socket = connect(server.path);
    const closed = await new Promise<boolean>((resolve) => {
      const bound = setTimeout(() => resolve(false), 3000);
      socket.on('close', () => {
        clearTimeout(bound);
        resolve(true);
      });
    });
    expect(closed).toBe(true);
  });
});

describe('the control socket and slow or half-closed clients', () => {
  it('answers a request that takes longer than the idle timeout (it waits behind a reload)', async () => {
    const server = await serve(fakeTarget({
      unban: async (src) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { ok: true, message: `Lifted the ban on ${src}.` };
      },
    }), { idleTimeout: 100 });
    expect(await talk(server.path, '{"op":"unban","src":"192.0.2.1"}\n')).toEqual({ answers: [{ ok: true, message: 'Lifted the ban on 192.0.2.1.' }], closed: false });
  });

  it('answers a client that sends its request and then EOF, and then ends', async () => {
    const server = await serve(fakeTarget({
      close: async (src, door) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { ok: true, message: `Closed ${door ?? 'every door'} for ${src}.` };
      },
    }));
    const result = await new Promise<{ text: string; ended: boolean }>((resolve, reject) => {
      const socket = connect(server.path);
      let text = '';
      const bound = setTimeout(() => {
        socket.destroy();
        resolve({ text, ended: false });
      }, 3000);
      socket.on('error', reject);
      socket.on('data', (chunk) => { text += chunk.toString('utf8'); });
      socket.on('end', () => {
        clearTimeout(bound);
        resolve({ text, ended: true });
      });
      socket.end('{"op":"close","src":"192.0.2.1","door":"openSSH"}\n');
    });
    expect(result).toEqual({ text: `${JSON.stringify({ ok: true, message: 'Closed openSSH for 192.0.2.1.' })}\n`, ended: true });
  });
});

describe('the socket file', () => {
  it('is created with mode 0600 in a directory made 0700, and removed on close', async () => {
    const dir = join(tempDir(), 'run/knockwatch');
    const server = await startControlServer(fakeTarget(), join(dir, 'control.sock'));
    expect(lstatSync(server.path).isSocket()).toBe(true);
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await server.close();
    expect(existsSync(server.path)).toBe(false);
  });

  it('replaces a socket nobody answers on (left by a daemon that died)', async () => {
    const dir = tempDir();
    const path = join(dir, 'control.sock');
    // A second name for a listening socket outlives the listener: a stale socket file.
    const old = createServer();
    await new Promise<void>((resolve) => old.listen(join(dir, 'old.sock'), resolve));
    linkSync(join(dir, 'old.sock'), path);
    await new Promise((resolve) => old.close(resolve));
    expect(lstatSync(path).isSocket()).toBe(true);
    const server = await serve(fakeTarget(), {}, path);
    expect((await talk(server.path, '{"op":"status"}\n')).answers).toEqual([JSON.parse(JSON.stringify(REPORT))]);
  });

  it('refuses to start while another server answers, and leaves that one alone', async () => {
    const first = await serve(fakeTarget());
    await expect(startControlServer(fakeTarget(), first.path)).rejects.toThrow(ControlSocketInUse);
    await expect(startControlServer(fakeTarget(), first.path)).rejects.toThrow(`another knockwatch answers on ${first.path}; stop it first`);
    expect((await talk(first.path, '{"op":"status"}\n')).answers).toEqual([JSON.parse(JSON.stringify(REPORT))]);
  });

  it('never replaces a file that is not a socket', async () => {
    const path = join(tempDir(), 'control.sock');
    writeFileSync(path, 'precious');
    await expect(startControlServer(fakeTarget(), path)).rejects.toThrow(`${path} exists and is not a socket; not replacing it`);
    expect(readFileSync(path, 'utf8')).toBe('precious');
  });
});
