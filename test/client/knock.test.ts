import { parseConfig } from '../../src/config/load-config.js';
import { createDoorKind } from '../../src/doors/create-door-kind.js';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { KnockSeams } from '../../src/client/knock-command.js';
import { pingArgs } from '../../src/client/knock-echo.js';
import type { KnockNet, Target } from '../../src/client/knock-net.js';
import { deriveClientSequence } from '../../src/client/knock-derive.js';
import type { RotatingClientDoor } from '../../src/client/knock-steps.js';
import { deriveSequence, windowStartOf } from '../../src/doors/rotating.js';
import { main } from '../../src/cli/main.js';
import type { CliDeps } from '../../src/cli/output.js';

type Outcome = 'refused' | 'hang' | 'open';

// A network that records what the client does, at the time it does it (sleep moves the clock).
function fakeNet(options: { locals?: string[]; outcomes?: Outcome[]; reply?: string; ping?: boolean } = {}) {
  const events: string[] = [];
  const received: string[] = [];
  let time = 0;
  const at = (text: string): void => {
    events.push(`${time} ${text}`);
  };
  const name = (target: Target, port: number, local: string | undefined): string => `${target.address}:${port}${local === undefined ? '' : ` from ${local}`}`;
  const outcomes = [...(options.outcomes ?? [])];
  const net: KnockNet = {
    async lookup(host, family) {
      at(`lookup ${host} ${family ?? 'any'}`);
      return family === 6 ? { address: '2001:db8::1', family: 6 } : { address: '192.0.2.1', family: 4 };
    },
    async syn(target, port, local) {
      at(`syn ${name(target, port, local)}`);
      return () => at(`abandon ${port}`);
    },
    async datagram(target, port, local) {
      at(`udp ${name(target, port, local)}`);
    },
    async echo(target, length, local) {
      at(`echo ${length} bytes to ${name(target, 0, local).replace(':0', '')}`);
    },
    canEcho: () => options.ping ?? true,
    connect(target, port, local) {
      const outcome = outcomes.shift() ?? 'refused';
      at(`connect ${name(target, port, local)}: ${outcome}`);
      const connection = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, done) {
          received.push(chunk.toString());
          done();
        },
        final(done) {
          this.push(null);
          done();
        },
      });
      if (options.reply !== undefined) connection.push(options.reply);
      const established = outcome === 'open' ? Promise.resolve(connection) : outcome === 'refused' ? Promise.reject(new Error('ECONNREFUSED')) : new Promise<Duplex>(() => {});
      return { established, abandon: () => at(`abandon connect ${port}`) };
    },
    isLocalAddress: (address) => (options.locals ?? []).includes(address),
    localAddressFor: async () => '192.0.2.77',
  };
  // The clock moves when a sleep ends, as it would: a sleep that lost a race moves it later.
  const sleep = async (ms: number): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    time += ms;
  };
  return { net, sleep, events, received, clock: { now: () => time } };
}

// Runs `knockwatch knock ARGV` on a fake network (its clock moved by the delays).
async function knock(argv: string[], seams: KnockSeams & { clock?: { now(): number }; fake?: ReturnType<typeof fakeNet> } = {}, env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const { fake = fakeNet(), ...rest } = seams;
  let piped = '';
  const deps: CliDeps & KnockSeams = {
    stdout: { write: (text: string) => { stdout += text; } },
    stderr: { write: (text: string) => { stderr += text; } },
    env,
    net: fake.net,
    sleep: fake.sleep,
    clock: fake.clock,
    stdio: { input: Readable.from(['ssh bytes']), output: new Writable({ write(chunk: Buffer, _encoding, done) { piped += chunk.toString(); done(); } }) },
    ...rest,
  };
  const code = await main(['knock', ...argv], deps);
  return { code, stdout, stderr, piped: () => piped, events: fake.events };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'knockwatch-knock-'));
}

function clientConfig(text: string): string {
  const path = join(tempDir(), 'client.ini');
  writeFileSync(path, text);
  return path;
}

describe('knockwatch knock with ports', () => {
  it.each([
    // in order, each TCP connect abandoned when the next step is due (the last at once)
    [['192.0.2.1', '7000', '8000:udp', '9000:tcp', '-d', '100'], ['0 syn 192.0.2.1:7000', '100 abandon 7000', '100 udp 192.0.2.1:8000', '200 syn 192.0.2.1:9000', '200 abandon 9000']],
    // the default delay is 0.2 s; --delay takes seconds or a unit
    [['192.0.2.1', '7000', '8000'], ['0 syn 192.0.2.1:7000', '200 abandon 7000', '200 syn 192.0.2.1:8000', '200 abandon 8000']],
    [['192.0.2.1', '7000', '8000', '--delay', '0.5'], ['0 syn 192.0.2.1:7000', '500 abandon 7000', '500 syn 192.0.2.1:8000', '500 abandon 8000']],
    [['192.0.2.1', '7000', '8000', '--delay', '30ms'], ['0 syn 192.0.2.1:7000', '30 abandon 7000', '30 syn 192.0.2.1:8000', '30 abandon 8000']],
    // -u: UDP unless a step says tcp
    [['-u', '192.0.2.1', '7000', '8000:tcp', '9000', '-d', '0'], ['0 udp 192.0.2.1:7000', '0 syn 192.0.2.1:8000', '0 abandon 8000', '0 udp 192.0.2.1:9000']],
    // a name is resolved once, with the family asked for
    [['gate.example.org', '7000', '8000', '-d', '0'], ['0 lookup gate.example.org any', '0 syn 192.0.2.1:7000', '0 abandon 7000', '0 syn 192.0.2.1:8000', '0 abandon 8000']],
    [['-4', 'gate.example.org', '7000'], ['0 lookup gate.example.org 4', '0 syn 192.0.2.1:7000', '0 abandon 7000']],
    [['-6', 'gate.example.org', '7000:udp'], ['0 lookup gate.example.org 6', '0 udp 2001:db8::1:7000']],
    // an address literal is knocked as it is
    [['-6', '2001:db8::9', '7000'], ['0 syn 2001:db8::9:7000', '0 abandon 7000']],
  ])('knock %j', async (argv, events) => {
    const result = await knock(argv);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(result.events).toEqual(events);
  });

  it('binds --source when it is an address of this host', async () => {
    const fake = fakeNet({ locals: ['192.0.2.50'] });
    const result = await knock(['192.0.2.1', '7000', '8000:udp', '--source', '192.0.2.50', '-d', '0'], { fake });
    expect(result.code).toBe(0);
    expect(fake.events).toEqual(['0 syn 192.0.2.1:7000 from 192.0.2.50', '0 abandon 7000', '0 udp 192.0.2.1:8000 from 192.0.2.50']);
  });

  it('-v says each step, on stdout', async () => {
    const result = await knock(['192.0.2.1', '7000', '8000:udp', '-v']);
    expect(result.stdout).toBe('Knocked 192.0.2.1 7000/tcp.\nKnocked 192.0.2.1 8000/udp.\n');
  });

  it.each([
    // usage errors: exit 2, nothing sent
    [['192.0.2.1'], 'knockwatch: knock: expected HOST and a DOOR or STEP...'],
    [['192.0.2.1', '70000'], 'knockwatch: "70000": expected PORT[:tcp|udp] with a port from 1 to 65535'],
    [['192.0.2.1', '7000:icmp'], 'knockwatch: "7000:icmp": expected tcp or udp after "7000:"'],
    [['-4', '-6', 'gate', '7000'], 'knockwatch: knock: -4 and -6 exclude each other'],
    [['-6', '192.0.2.1', '7000'], 'knockwatch: -6: 192.0.2.1 is an IPv4 address'],
    [['192.0.2.1', '7000', '--delay', '200'], 'knockwatch: --delay: expected at most 60 s (knockd\'s -d takes milliseconds: -d 200), found "200"'],
    [['192.0.2.1', '7000', '-d', '0.2'], 'knockwatch: -d: expected milliseconds, a whole number from 0 to 60000, found "0.2"'],
    [['192.0.2.1', '7000', '--source', 'me'], 'knockwatch: --source: expected an IPv4 or IPv6 address, found "me"'],
    [['192.0.2.1', '7000', '--source', '2001:db8::5'], 'knockwatch: --source 2001:db8::5: expected an IPv4 address like 192.0.2.1'],
    [['192.0.2.1', '7000', '--connect', 'ssh'], 'knockwatch: --connect: expected a port (1-65535), found "ssh"'],
    [['192.0.2.1', 'openSSH', '7000'], 'knockwatch: knock: expected one DOOR or only PORT[:tcp|udp] steps after 192.0.2.1, found openSSH 7000'],
    [['-u', '192.0.2.1', 'openSSH'], 'knockwatch: knock: -u makes PORT arguments UDP; a door has its own protocols'],
  ])('refuses %j', async (argv, message) => {
    const result = await knock(argv);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: `${message}\nTry knockwatch --help.\n` });
    expect(result.events).toEqual([]);
  });

  it('refuses a --source that is not an address of this host for a static knock', async () => {
    const result = await knock(['192.0.2.1', '7000', '--source', '198.51.100.7']);
    expect(result).toMatchObject({ code: 2, stderr: "knockwatch knock: --source 198.51.100.7 is not an address of this host (only a bind_source door takes a NAT's public address)\n" });
    expect(result.events).toEqual([]);
  });
});

describe('knockwatch knock --connect', () => {
  it('knocks, connects and pipes stdin and stdout through the connection: exit 0, nothing else on stdout', async () => {
    const fake = fakeNet({ outcomes: ['open'], reply: 'SSH-2.0-server\r\n' });
    const result = await knock(['192.0.2.1', '7000', '--connect', '22', '-v'], { fake });
    expect(result.code).toBe(0);
    expect(fake.events).toEqual(['0 syn 192.0.2.1:7000', '0 abandon 7000', '0 connect 192.0.2.1:22: open']);
    expect(result.piped()).toBe('SSH-2.0-server\r\n');
    expect(fake.received).toEqual(['ssh bytes']);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('Knocked 192.0.2.1 7000/tcp.\nConnected to 192.0.2.1 port 22.\n');
  });

  it('tries again every 0.25 s until the port opens, and closes the attempts left waiting', async () => {
    const fake = fakeNet({ outcomes: ['refused', 'hang', 'open'] });
    const result = await knock(['192.0.2.1', '7000', '--connect', '22', '-d', '0'], { fake });
    expect(result.code).toBe(0);
    expect(fake.events).toEqual(['0 syn 192.0.2.1:7000', '0 abandon 7000', '0 connect 192.0.2.1:22: refused', '250 connect 192.0.2.1:22: hang',
      '500 connect 192.0.2.1:22: open', '500 abandon connect 22']);
  });

  it('exits 1 when the port does not open within --wait', async () => {
    const fake = fakeNet({ outcomes: ['hang', 'refused', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang'] });
    const result = await knock(['192.0.2.1', '7000', '--connect', '22', '--wait', '3'], { fake });
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'knockwatch knock: 192.0.2.1 port 22 did not open within 3 s.\n' });
    expect(result.piped()).toBe('');
    // One attempt every 0.25 s until 3 s; an attempt 2 s old is closed (the refused one
    // ended by itself), the rest when the wait is over.
    const attempts = [0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2500, 2750];
    expect(fake.events.filter((event) => event.includes(': '))).toEqual(attempts.map((time, index) => `${time} connect 192.0.2.1:22: ${index === 1 ? 'refused' : 'hang'}`));
    expect(fake.events.filter((event) => event.includes('abandon connect'))).toEqual(
      ['2000', '2500', '2750', ...Array<string>(8).fill('3000')].map((time) => `${time} abandon connect 22`));
  });
});

describe('knockwatch knock with a client config', () => {
  const secretDir = tempDir();
  const secretFile = join(secretDir, 'gate.secret');
  writeFileSync(secretFile, 'not-to-be-printed\n');
  chmodSync(secretFile, 0o600);
  const config = clientConfig(`# hosts and their doors
[myhost]
address = gate.example.org
family = 6
delay = 50ms

[myhost openSSH]
sequence = 7000,8000:udp,9000

[myhost rotating]
secret_file = ${secretFile}
rotate = 1h
port_range = 10000-10999
length = 3
protocols = tcp,udp
bind_source = yes

[myhost hourly]
secret_file = ${secretFile}
derive = md5-hour
port_range = 20000-20099
`);

  it('knocks a static door at the host\'s address with its family and delay', async () => {
    const result = await knock(['myhost', 'openSSH', '--config', config]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(result.events).toEqual(['0 lookup gate.example.org 6', '0 syn 2001:db8::1:7000', '50 abandon 7000', '50 udp 2001:db8::1:8000',
      '100 syn 2001:db8::1:9000', '100 abandon 9000']);
  });

  it('takes door names without case, and options over the host\'s', async () => {
    const result = await knock(['MyHost', 'openssh', '--config', config, '-4', '--delay', '0']);
    expect(result.events).toEqual(['0 lookup gate.example.org 4', '0 syn 192.0.2.1:7000', '0 abandon 7000', '0 udp 192.0.2.1:8000', '0 syn 192.0.2.1:9000', '0 abandon 9000']);
  });

  // As in the README's example: a header's comment is no key of the section before it.
  it('reads a comment after a section header as a comment', async () => {
    const commented = clientConfig(`[myhost]                 ; the host
address = gate.example.org
[myhost openSSH]          # its door
sequence = 7000,8000:udp
[myhost closeSSH] ; the reverse
sequence = 9000
`);
    const open = await knock(['myhost', 'openSSH', '--config', commented, '-4', '--delay', '0']);
    expect(open).toMatchObject({ code: 0, stderr: '' });
    expect(open.events).toEqual(['0 lookup gate.example.org 4', '0 syn 192.0.2.1:7000', '0 abandon 7000', '0 udp 192.0.2.1:8000']);
    const close = await knock(['myhost', 'closeSSH', '--config', commented, '-4', '--delay', '0']);
    expect(close.events).toEqual(['0 lookup gate.example.org 4', '0 syn 192.0.2.1:9000', '0 abandon 9000']);
  });

  it('reads ~/.config/knockwatch/client.ini (or $XDG_CONFIG_HOME\'s) without --config', async () => {
    const home = tempDir();
    const xdg = join(home, '.config');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(xdg, 'knockwatch'), { recursive: true });
    writeFileSync(join(xdg, 'knockwatch', 'client.ini'), '[gate]\naddress = 192.0.2.9\n[gate open]\nsequence = 1234\n');
    expect((await knock(['gate', 'open'], {}, { HOME: home })).events).toEqual(['0 syn 192.0.2.9:1234', '0 abandon 1234']);
    expect((await knock(['gate', 'open'], {}, { HOME: '/nonexistent', XDG_CONFIG_HOME: xdg })).events).toEqual(['0 syn 192.0.2.9:1234', '0 abandon 1234']);
  });

  it('binds the host\'s `source` when it is this host\'s; a NAT\'s public one only matters to bind_source doors', async () => {
    const nat = clientConfig('[gate]\naddress = 192.0.2.1\nsource = 198.51.100.7\n[gate open]\nsequence = 1234\n');
    expect((await knock(['gate', 'open', '--config', nat])).events).toEqual(['0 syn 192.0.2.1:1234', '0 abandon 1234']);
    const fake = fakeNet({ locals: ['198.51.100.7'] });
    expect(await knock(['gate', 'open', '--config', nat], { fake })).toMatchObject({ code: 0 });
    expect(fake.events).toEqual(['0 syn 192.0.2.1:1234 from 198.51.100.7', '0 abandon 1234']);
  });

  it('knocks what the daemon\'s door expects now: the same derivation, secret and window (hmac and md5-hour)', async () => {
    const now = 1_700_000_000_000;
    const server = parseConfig(`[options]\nwhitelist = 192.0.2.10\n[rotating]\nsecret_file = /etc/kw.secret\nrotate = 1h\nport_range = 10000-10999\nlength = 3\nprotocols = tcp,udp\nbind_source = yes\n[hourly]\nsecret_file = /etc/kw.secret\nderive = md5-hour\nport_range = 20000-20099\n`,
      'server.ini', undefined, undefined, () => Buffer.from('not-to-be-printed\n'));
    // Every sequence the daemon's door accepts from `src` now (this window and those within skew).
    const acceptedOf = (name: string, src: string): string[][] => {
      const door = server.doors.find((candidate) => candidate.name === name);
      if (door === undefined) throw new Error(`no door ${name}`);
      return createDoorKind(door.knock).expected(src, now).map((sequence) => sequence.map((step) => `${step.proto === 'udp' ? 'udp' : 'syn'} 2001:db8::1:${step.port}`));
    };
    const sent = async (door: string, ...extra: string[]): Promise<string[]> => (await knock(['myhost', door, '--config', config, '--delay', '0', ...extra], { clock: { now: () => now } }))
      .events.filter((event) => / (syn|udp) /.test(event)).map((event) => event.slice(2).replace(/ from .*/, ''));
    const rotating = await sent('rotating', '--source', '2001:db8:ff::7');
    expect(rotating).toHaveLength(3);
    expect(acceptedOf('rotating', '2001:db8:ff::7')).toContainEqual(rotating);
    // bound to the source: what the daemon expects from another address is something else
    expect(acceptedOf('rotating', '2001:db8:ff::8')).not.toContainEqual(rotating);
    const hourly = await sent('hourly');
    expect(hourly).toHaveLength(5);
    expect(acceptedOf('hourly', '2001:db8:ff::7')).toContainEqual(hourly);
  });

  it('asks SequenceFor for a rotating door\'s steps: the door with its secret, the time and the address the daemon sees', async () => {
    const calls: { door: RotatingClientDoor; time: number; source: string | undefined }[] = [];
    const sequenceFor = (door: RotatingClientDoor, time: number, source?: string) => {
      calls.push({ door, time, source });
      return [{ port: 10007, proto: 'udp' as const }, { port: 10500, proto: 'tcp' as const }];
    };
    const result = await knock(['myhost', 'rotating', '--config', config, '-v', '--delay', '0'], { sequenceFor, clock: { now: () => 1_700_000_000_000 } });
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: 'Knocked 2001:db8::1 step 1/2 (udp).\nKnocked 2001:db8::1 step 2/2 (tcp).\n' });
    expect(result.events).toEqual(['0 lookup gate.example.org 6', '0 udp 2001:db8::1:10007', '0 syn 2001:db8::1:10500', '0 abandon 10500']);
    expect(calls).toEqual([{
      door: { kind: 'rotating', name: 'rotating', secretFile, secret: Buffer.from('not-to-be-printed\n'), derive: 'hmac', rotate: 3600,
        portRange: { low: 10000, high: 10999 }, length: 3, protocols: ['tcp', 'udp'], bindSource: true, exclude: [] },
      time: 1_700_000_000_000,
      // no --source: the address this host sends from to reach the daemon
      source: '192.0.2.77',
    }]);
  });

  it('derives for a NAT\'s public --source without binding it, and for md5-hour doors', async () => {
    const sources: (string | undefined)[] = [];
    const sequenceFor = (door: RotatingClientDoor, _time: number, source?: string) => {
      sources.push(`${door.derive} ${source}`);
      return [{ port: 10001, proto: 'tcp' as const }];
    };
    const nat = await knock(['myhost', 'rotating', '--config', config, '--source', '2001:db8:ff::7'], { sequenceFor });
    expect(nat.events).toEqual(['0 lookup gate.example.org 6', '0 syn 2001:db8::1:10001', '0 abandon 10001']);
    await knock(['myhost', 'hourly', '--config', config], { sequenceFor });
    expect(sources).toEqual(['hmac 2001:db8:ff::7', 'md5-hour undefined']);
  });

  it.each([
    // a secret file others could read or change is refused, and its content never shown
    [0o644, undefined, 'mode 0644: group or others have access (chmod 0600)'],
    [0o620, undefined, 'mode 0620: group or others have access (chmod 0600)'],
    [0o600, 4242, `owned by uid ${process.getuid?.()}, not by uid 4242`],
  ])('refuses a secret file with mode %o (uid %s)', async (mode, uid, message) => {
    chmodSync(secretFile, mode);
    try {
      const result = await knock(['myhost', 'rotating', '--config', config], { sequenceFor: () => [{ port: 1, proto: 'tcp' }], ...(uid === undefined ? {} : { uid }) });
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toContain(`knockwatch knock: secret file ${secretFile}: ${message}`);
      expect(result.stderr).not.toContain('not-to-be-printed');
      expect(result.events).toEqual([]);
    } finally {
      chmodSync(secretFile, 0o600);
    }
  });

  it.each([['an empty file', ''], ['only a newline', '\r\n']])('refuses a secret file holding %s (the daemon refuses it too)', async (_name, content) => {
    const empty = join(tempDir(), 'empty.secret');
    writeFileSync(empty, content, { mode: 0o600 });
    const config = clientConfig(`[gate]\naddress = 192.0.2.1\n[gate door]\nsecret_file = ${empty}\nrotate = 1h\nport_range = 7000-7009\n`);
    const result = await knock(['gate', 'door', '--config', config], { sequenceFor: () => [{ port: 1, proto: 'tcp' }] });
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: `knockwatch knock: secret file ${empty}: expected a secret, found an empty file\n` });
    expect(result.events).toEqual([]);
  });

  it('reads a secret file through a symbolic link, checking the file it leads to', async () => {
    const link = join(tempDir(), 'link.secret');
    symlinkSync(secretFile, link);
    const config = clientConfig(`[gate]\naddress = 192.0.2.1\n[gate door]\nsecret_file = ${link}\nrotate = 1h\nport_range = 7000-7009\n`);
    const secrets: string[] = [];
    const result = await knock(['gate', 'door', '--config', config], { sequenceFor: (door) => { secrets.push(door.secret.toString()); return [{ port: 7001, proto: 'tcp' }]; } });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(secrets).toEqual(['not-to-be-printed\n']);
    chmodSync(secretFile, 0o640);
    try {
      expect((await knock(['gate', 'door', '--config', config])).stderr).toBe(`knockwatch knock: secret file ${link}: mode 0640: group or others have access (chmod 0600)\n`);
    } finally {
      chmodSync(secretFile, 0o600);
    }
  });

  it.each([
    [['myhost', 'closeSSH'], 'knockwatch knock: no door "closeSSH" for myhost in CONFIG; its doors: openSSH, rotating, hourly'],
    [['otherhost', 'openSSH'], 'knockwatch knock: no door "openSSH" for otherhost in CONFIG'],
  ])('refuses an unknown door %j', async (argv, message) => {
    const result = await knock([...argv, '--config', config]);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: `${message.replace('CONFIG', config)}\n` });
  });

  it('refuses a missing --config, and a door with no client config at all', async () => {
    expect(await knock(['myhost', 'openSSH', '--config', '/nonexistent/client.ini'])).toMatchObject({ code: 2, stderr: 'knockwatch knock: client config /nonexistent/client.ini: ENOENT\n' });
    expect((await knock(['myhost', 'openSSH'], {}, { HOME: '/nonexistent' })).stderr).toBe(
      'knockwatch knock: no door "openSSH" for myhost in the client config (~/.config/knockwatch/client.ini or --config FILE)\n');
  });

  it('reports a key above the first section once, by its line', async () => {
    const bad = clientConfig('delay = 1\n[gate openSSH]\nsequence = 7000\n');
    const result = await knock(['gate', 'openSSH', '--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')).toEqual([
      'knockwatch: the config has 1 problem:',
      `${bad} line 1: expected a [section] before the first key, found "delay = 1"`,
      '',
    ]);
  });

  it('reports every problem of a bad client config at once', async () => {
    const bad = clientConfig(`[gate]
adress = 192.0.2.1
family = 5
[gate a]
sequence = 7000
rotate = 1h
[gate b]
secret_file = x.secret
rotate = 10s
port_range = 2000-1000
[gate c]
open = 22
[gate d e]
sequence = 1
`);
    const result = await knock(['gate', 'a', '--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')).toEqual([
      'knockwatch: the config has 8 problems:',
      `${bad} [gate] family: expected 4 or 6, found "5"`,
      `${bad} [gate] adress: expected a host key (address, family, source, delay), found "adress"`,
      `${bad} [gate a] rotate: expected no rotating-door key next to a static sequence, found "rotate"`,
      `${bad} [gate b] rotate: expected a whole number of seconds, at least 30s, found "10s"`,
      `${bad} [gate b] port_range: expected a port range LOW-HIGH (1-65535, LOW <= HIGH), found "2000-1000"`,
      `${bad} [gate c] sequence: expected sequence = PORTS, or secret_file with rotate or derive = md5-hour, found nothing`,
      `${bad} [gate c] open: expected a door key (sequence, secret_file, derive, rotate, port_range, length, protocols, bind_source, exclude), found "open"`,
      `${bad} [gate d e]: expected a section [HOST] or [HOST DOOR], found "gate d e"`,
      '',
    ]);
  });

  it.each([
    // the daemon's parsers: what its door takes, the client's takes, and nothing else
    ['rotate = 90500ms\nport_range = 7000-7009', 'rotate: expected a whole number of seconds, at least 30s, found "90500ms"'],
    ['rotate = 1h\nport_range = 7000-7009\nprotocols = tcp,icmp', 'protocols: expected tcp, udp or tcp,udp, found "tcp,icmp"'],
    ['rotate = 1h', 'port_range: expected the ports the sequence is derived in (e.g. 10000-10999), found nothing'],
    // what the client must be told to derive what the daemon does
    ['port_range = 7000-7009', 'rotate: expected a window length (at least 30s) or derive = md5-hour, found nothing'],
    ['derive = md5-hour\nrotate = 1h\nport_range = 7000-7009', 'rotate: expected no rotate with derive = md5-hour (its window is the UTC hour), found "1h"'],
    ['rotate = 1h\nport_range = 7000-7009\nexclude = 7001,x', 'exclude: expected ports separated by commas, found "7001,x"'],
  ])('refuses a rotating door it cannot derive as the daemon does: %j', async (keys, message) => {
    const bad = clientConfig(`[gate]\naddress = 192.0.2.1\n[gate door]\nsecret_file = x.secret\n${keys}\n`);
    const result = await knock(['gate', 'door', '--config', bad]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr.split('\n')).toEqual(['knockwatch: the config has 1 problem:', `${bad} [gate door] ${message}`, '']);
  });

  it('finds secret_file = ~/NAME in the home directory and a relative one beside the client config', async () => {
    const files: string[] = [];
    const sequenceFor = (door: RotatingClientDoor & { secretFile?: string }) => {
      files.push(`${door.secretFile} ${door.secret.toString().trim()}`);
      return [{ port: 7001, proto: 'tcp' as const }];
    };
    const door = (path: string): string => `[gate]\naddress = 192.0.2.1\n[gate door]\nsecret_file = ${path}\nrotate = 1h\nport_range = 7000-7009\n`;
    const home = clientConfig(door('~/gate.secret'));
    expect(await knock(['gate', 'door', '--config', home], { sequenceFor }, { HOME: secretDir })).toMatchObject({ code: 0, stderr: '' });
    const beside = join(secretDir, 'client.ini');
    writeFileSync(beside, door('gate.secret'));
    expect(await knock(['gate', 'door', '--config', beside], { sequenceFor })).toMatchObject({ code: 0, stderr: '' });
    expect(files).toEqual([`${secretFile} not-to-be-printed`, `${secretFile} not-to-be-printed`]);
  });

  it('derives without the ports its exclude lists, as the daemon skips its other doors\' ports', () => {
    const door: RotatingClientDoor = { kind: 'rotating', name: 'd', secret: Buffer.from('s\n'), derive: 'hmac', rotate: 3600,
      portRange: { low: 10000, high: 10009 }, length: 5, protocols: ['tcp'], bindSource: false, exclude: [] };
    const now = 1_700_000_000_000;
    const [first] = deriveClientSequence(door, now);
    const skipping = deriveClientSequence({ ...door, exclude: [first!.port] }, now);
    expect(skipping.map((step) => step.port)).not.toContain(first!.port);
    expect(skipping).toEqual(deriveSequence({ secret: Buffer.from('s'), door: 'd', windowStart: windowStartOf(now, 3600), range: door.portRange,
      length: 5, protocols: ['tcp'], exclude: [first!.port] }));
  });

  it('takes a one-port range for a one-step door, as the daemon does', async () => {
    const one = clientConfig(`[gate]\naddress = 192.0.2.1\n[gate door]\nsecret_file = ${secretFile}\nrotate = 1h\nport_range = 7000-7000\nlength = 1\n`);
    const result = await knock(['gate', 'door', '--config', one], { clock: { now: () => 1_700_000_000_000 } });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.events).toEqual(['0 syn 192.0.2.1:7000', '0 abandon 7000']);
  });
});

describe('knockwatch knock with icmp:N steps', () => {
  it.each([
    // an echo request of N bytes between the ports, the delay after it as after any step
    [['192.0.2.1', '7000', 'icmp:100', '9000', '-d', '100'], ['0 syn 192.0.2.1:7000', '100 abandon 7000', '100 echo 100 bytes to 192.0.2.1', '200 syn 192.0.2.1:9000', '200 abandon 9000']],
    [['-6', '2001:db8::9', 'icmp:48'], ['0 echo 48 bytes to 2001:db8::9']],
  ])('knock %j', async (argv, events) => {
    const result = await knock(argv);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(result.events).toEqual(events);
  });

  it('knocks a door whose sequence holds an icmp:N step, from the client config', async () => {
    const path = clientConfig('[gate]\naddress = 192.0.2.1\n[gate openSSH]\nsequence = 7000,icmp:100\n');
    const result = await knock(['gate', 'openSSH', '--config', path, '-d', '0', '-v']);
    expect(result).toMatchObject({ code: 0, stdout: 'Knocked 192.0.2.1 7000/tcp.\nKnocked 192.0.2.1 icmp:100.\n' });
    expect(result.events).toEqual(['0 syn 192.0.2.1:7000', '0 abandon 7000', '0 echo 100 bytes to 192.0.2.1']);
  });

  it.each([
    // refused before the first step: nothing is sent
    [['192.0.2.1', '7000', 'icmp:100'], { ping: false }, 'knockwatch knock: icmp:100 needs ping, which is not installed (Debian: apt install iputils-ping)\n'],
    [['-6', '2001:db8::9', '7000', 'icmp:40'], {}, 'knockwatch knock: icmp:40 is shorter than an IPv6 echo request (48 bytes at least)\n'],
  ] as const)('refuses %j', async (argv, options, stderr) => {
    const result = await knock([...argv], { fake: fakeNet(options) });
    expect(result).toMatchObject({ code: 2, stdout: '', stderr });
    expect(result.events).toEqual([]);
  });

  it('a wrong icmp step on the command line is a usage error', async () => {
    const result = await knock(['192.0.2.1', 'icmp:20']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"icmp:20": expected an echo request\'s IP packet length after "icmp:" (28-65535; IPv6 needs 48 or more)');
  });
});

describe('ping for icmp:N', () => {
  it.each([
    // ping -s is the payload: N minus 28 bytes of headers (IPv4), 48 (IPv6)
    [{ address: '10.214.1.1', family: 4 } as const, 100, undefined, ['-4', '-c', '1', '-W', '1', '-s', '72', '10.214.1.1']],
    [{ address: 'fd00:214::1', family: 6 } as const, 100, 'fd00:214::2', ['-6', '-c', '1', '-W', '1', '-s', '52', '-I', 'fd00:214::2', 'fd00:214::1']],
  ])('%j, %i bytes, from %s', (target, length, local, argv) => {
    expect(pingArgs(target, length, local)).toEqual(argv);
  });
});
