import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/config/problems.js';
import { readSecretFile } from '../../src/config/rotating-door.js';
import type { Config } from '../../src/config/types.js';
import { createDoorKind } from '../../src/doors/create-door-kind.js';
import { describeKnock } from '../../src/doors/format-step.js';

const SECRET_TEXT = 'do-not-print-me-7f3a';
const dir = mkdtempSync(join(tmpdir(), 'kw-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const door = (extra: string, options = ''): string => `
[options]
${options}
[openSSH]
secret_file = /etc/knockwatch/secret
port_range = 10000-10009
${extra}
`;

function parse(ini: string, secret = `${SECRET_TEXT}\n`): Config {
  return parseConfig(ini, 'test.ini', undefined, undefined, () => Buffer.from(secret));
}

function problems(ini: string, secret?: string): string[] {
  try {
    parse(ini, secret);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('rotating door keys', () => {
  it('reads a hmac door with its defaults, the secret without its trailing newline', () => {
    const knock = parse(door('')).doors[0]?.knock;
    expect(knock?.kind).toBe('rotating');
    if (knock?.kind !== 'rotating') return;
    expect({ ...knock, secret: knock.secret.reveal().toString() }).toEqual({
      kind: 'rotating', derive: 'hmac', door: 'openSSH', secret: SECRET_TEXT, rotate: 3600, range: { low: 10000, high: 10009 },
      length: 5, protocols: ['tcp'], skew: 1, bindSource: false, oncePerWindow: false, exclude: [],
    });
  });

  it('never shows the secret: not in JSON, not as text, not in check\'s description', () => {
    const config = parse(door('protocols = udp,tcp\nbind_source = yes\nonce_per_window = yes\nrotate = 90s\nlength = 4\nskew = 2'));
    const [doorConfig] = config.doors;
    expect(JSON.stringify(config)).not.toContain(SECRET_TEXT);
    expect(String(doorConfig?.knock.kind === 'rotating' ? doorConfig.knock.secret : '')).toBe('[secret]');
    expect(describeKnock(doorConfig!)).toEqual(['port_range', '10000-10009: 4 distinct TCP/UDP ports per 90s window (hmac), skew 2 windows, bound to the knocking address, once per window per address']);
  });

  // Config problems, each with the key and what was expected; the secret never in them.
  it.each([
    ['a window under 30 s', 'rotate = 29s', 'test.ini [openSSH] rotate: expected a whole number of seconds, at least 30s, found "29s"'],
    ['a window of part seconds', 'rotate = 30500ms', 'test.ini [openSSH] rotate: expected a whole number of seconds, at least 30s, found "30500ms"'],
    ['more steps than ports', 'length = 11', 'test.ini [openSSH] port_range: expected at least length (11) ports, found "10 ports"'],
    ['an unknown protocol', 'protocols = tcp,icmp', 'test.ini [openSSH] protocols: expected tcp, udp or tcp,udp, found "tcp,icmp"'],
    ['a sequence as well', 'sequence = 7000', 'test.ini [openSSH] sequence: expected one of sequence, one_time_sequences or a rotating door (secret_file, port_range), found "more than one"'],
    ['a skew of 4', 'skew = 4', 'test.ini [openSSH] skew: expected a whole number from 0 to 3, found "4"'],
    ['md5-hour with a window', 'derive = md5-hour\nrotate = 30m', 'test.ini [openSSH] rotate: expected no rotate with derive = md5-hour (the recipe uses 1h, 5 TCP ports, no address), found "30m"'],
    ['an unknown derivation', 'derive = sha1', 'test.ini [openSSH] derive: expected hmac or md5-hour, found "sha1"'],
  ])('refuses %s', (_what, extra, message) => {
    const found = problems(door(extra));
    expect(found).toEqual([message]);
  });

  it('refuses a range without its secret, and a range that is no range', () => {
    expect(problems('[d]\nport_range = 10009-10000\n')).toEqual([
      'test.ini [d] secret_file: expected the file holding the door\'s secret (root-owned, mode 0600), found nothing',
      'test.ini [d] port_range: expected a port range LOW-HIGH (1-65535, LOW <= HIGH), found "10009-10000"',
    ]);
  });

  it('refuses a door without port_range, and a secret that is only a newline', () => {
    expect(problems('[d]\nsecret_file = /etc/knockwatch/secret\n')).toEqual([
      'test.ini [d] port_range: expected the ports the sequence is derived in (e.g. 10000-10999), found nothing',
    ]);
    expect(problems(door(''), '\r\n')).toEqual(['test.ini [openSSH] secret_file: expected a secret that is not empty, found "/etc/knockwatch/secret: empty"']);
  });

  it('refuses an md5-hour secret the recipe cannot pass to date, without printing it', () => {
    const found = problems(door('derive = md5-hour'), 'abc%Hdef\n');
    expect(found).toEqual(['test.ini [openSSH] secret_file: expected a secret without %, spaces, tabs, newlines, *, ?, [, ] or \\ (the recipe passes it to date unquoted, in its format), found "/etc/knockwatch/secret: a secret the recipe cannot use"']);
    expect(found.join()).not.toContain('abc');
  });

  it('refuses a range that holds a protected port: its LOG+DROP would shut the service', () => {
    expect(problems(door('open = 10005/tcp'))).toEqual([
      'test.ini [openSSH] port_range: expected knock ports other than the ports doors open (10005/tcp is opened by [openSSH]; its LOG+DROP would shut it for everyone, whitelist included), found "10005/tcp"',
    ]);
  });

  it('hmac: skips other doors\' ports and trap ports in its range', () => {
    const config = parse(`${door('', 'trap_ports = 10003')}\n[other]\nsequence = 10001,7000\n`);
    const knock = config.doors[0]?.knock;
    expect(knock?.kind === 'rotating' ? knock.exclude : undefined).toEqual([10001, 10003]);
    expect(createDoorKind(knock!).steps().map((step) => step.port)).toEqual([10000, 10002, 10004, 10005, 10006, 10007, 10008, 10009]);
  });

  // Checked against the ports left: before, the config loaded (`check` said ok) and the first
  // knock in the range stopped replay and the daemon with a RangeError.
  it('hmac: refuses a range whose other doors\' ports and trap ports leave fewer ports than steps', () => {
    expect(problems(`${door('length = 8', 'trap_ports = 10003')}\n[other]\nsequence = 10001,10005,7000\n`)).toEqual([
      'test.ini [openSSH] port_range: expected at least length (8) ports besides those it skips (10001, 10003, 10005: other doors, trap ports), found "7 ports"',
    ]);
    expect(problems(`${door('length = 7', 'trap_ports = 10003')}\n[other]\nsequence = 10001,10005,7000\n`)).toEqual([]);
  });

  it('hmac: an echo request\'s length is no port to skip', () => {
    const knock = parse(`${door('')}\n[other]\nsequence = 10001,icmp:10005\n`).doors[0]?.knock;
    expect(knock?.kind === 'rotating' ? knock.exclude : undefined).toEqual([10001]);
  });

  it('md5-hour: refuses a trap port in its range (the recipe cannot skip it)', () => {
    expect(problems(door('derive = md5-hour', 'trap_ports = 10003'))).toEqual([
      'test.ini [options] trap_ports: expected ports no door knocks on (10003/tcp is a step of [openSSH]; knocking it correctly would trap the knocker), found "10003/tcp"',
    ]);
  });
});

describe('readSecretFile', () => {
  const write = (name: string, mode: number): string => {
    const path = join(dir, name);
    writeFileSync(path, `${SECRET_TEXT}\n`);
    chmodSync(path, mode);
    return path;
  };

  it('reads a root-owned file only root can read', () => {
    expect(readSecretFile(write('ok', 0o600)).toString()).toBe(`${SECRET_TEXT}\n`);
    expect(readSecretFile(write('ro', 0o400)).toString()).toBe(`${SECRET_TEXT}\n`);
  });

  // Refused, and the message never holds the content.
  it.each([
    ['readable by others', 0o604, 'mode 0604: group or others have access (chmod 0600)'],
    ['readable by the group', 0o640, 'mode 0640: group or others have access (chmod 0600)'],
    ['writable by the group', 0o620, 'mode 0620: group or others have access (chmod 0600)'],
  ])('refuses a file %s', (name, mode, message) => {
    expect(() => readSecretFile(write(name, mode))).toThrow(message);
  });

  it('refuses a file not owned by root, a directory and a symbolic link', () => {
    const path = write('owned', 0o600);
    chownSync(path, 1234, 0);
    expect(() => readSecretFile(path)).toThrow('owned by uid 1234, not by root');
    mkdirSync(join(dir, 'sub'));
    expect(() => readSecretFile(join(dir, 'sub'))).toThrow('not a regular file');
    symlinkSync(write('target', 0o600), join(dir, 'link'));
    expect(() => readSecretFile(join(dir, 'link'))).toThrow(expect.objectContaining({ code: 'ELOOP' }));
  });

  it('a config with an unreadable secret file says which file and why, never what is in it', () => {
    const path = write('world', 0o644);
    let message = '';
    try {
      parseConfig(`[d]\nsecret_file = ${path}\nport_range = 10000-10009\n`, join(dir, 'k.ini'));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`${join(dir, 'k.ini')} [d] secret_file: expected a regular file owned by root that only root can read, found "${path}: mode 0644: group or others have access (chmod 0600)"`);
  });
});
