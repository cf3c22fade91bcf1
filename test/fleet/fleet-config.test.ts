import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { parseRedisUrl, readFleet } from '../../src/config/fleet.js';
import { ConfigError, formatProblem, type ConfigProblem } from '../../src/config/problems.js';
import { SectionReader } from '../../src/config/section-reader.js';
import { cli } from '../helpers/cli.js';

const PASSWORD = 'hunter2-fleet-password';
const DOORS = '[openSSH]\nsequence = 7000,8000\nopen_for = 30\n[local]\nsequence = 9000\nfleet = no\n';

function load(fleet: string, readSecret: (path: string) => Buffer = () => Buffer.from(`${PASSWORD}\n`)) {
  return parseConfig(`${fleet}\n${DOORS}`, '/etc/knockwatch/k.ini', undefined, undefined, readSecret);
}

function problems(fleet: string, readSecret?: (path: string) => Buffer): string[] {
  try {
    load(fleet, readSecret);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

describe('[fleet]', () => {
  it('reads the group, the endpoint without the password, the password from its file', () => {
    const config = load('[fleet]\nredis = rediss://kw@redis.example:6380/2\nredis_password_file = redis.pw\ngroup = web\nname = bastion\npublish = grants\nsubscribe = grants, bans\n');
    const fleet = config.fleet;
    expect(fleet && { ...fleet, password: fleet.password?.reveal().toString() }).toEqual({
      redis: { tls: true, host: 'redis.example', port: 6380, database: 2, username: 'kw', text: 'rediss://kw@redis.example:6380/2', ca: undefined },
      password: PASSWORD, group: 'web', name: 'bastion',
      publish: { grants: true, bans: false }, subscribe: { grants: true, bans: true }, streamLength: 10_000,
    });
  });

  it('defaults: port 6379, database 0, both kinds both ways, the host name as name', () => {
    const fleet = load('[fleet]\nredis = redis://10.0.0.1\ngroup = web\n').fleet;
    expect(fleet?.redis).toEqual({ tls: false, host: '10.0.0.1', port: 6379, database: 0, username: undefined, text: 'redis://10.0.0.1', ca: undefined });
    expect(fleet?.password).toBeUndefined();
    expect(fleet?.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
    expect([fleet?.publish, fleet?.subscribe]).toEqual([{ grants: true, bans: true }, { grants: true, bans: true }]);
  });

  it('no [fleet]: none; a door is shared unless it says fleet = no', () => {
    const config = load('');
    expect(config.fleet).toBeUndefined();
    expect(config.doors.map((door) => [door.name, door.fleet])).toEqual([['openSSH', true], ['local', false]]);
  });

  it('never shows the password: not in JSON, not when inspected', () => {
    const config = load('[fleet]\nredis = redis://kw@10.0.0.1\nredis_password_file = /etc/knockwatch/redis.pw\ngroup = web\n');
    expect(JSON.stringify(config)).not.toContain(PASSWORD);
    expect(inspect(config, { depth: 10 })).not.toContain(PASSWORD);
  });

  it.each([
    // The endpoint.
    ['redis = http://10.0.0.1\ngroup = web', ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "http://10.0.0.1"']],
    ['group = web', ['redis: expected the group\'s Redis, redis://[user@]host[:port][/db] or rediss:// for TLS, found nothing']],
    ['redis = redis://10.0.0.1/16\ngroup = web', ['redis: expected a database number from 0 to 15 after the host, found "redis://10.0.0.1/16"']],
    ['redis = redis://10.0.0.1/123\ngroup = web', ['redis: expected a database number from 0 to 15 after the host, found "redis://10.0.0.1/123"']],
    ['redis = redis://10.0.0.1/1x\ngroup = web', ['redis: expected a database number from 0 to 15 after the host, found "redis://10.0.0.1/1x"']],
    ['redis =\ngroup = web', ['redis: expected the group\'s Redis, redis://[user@]host[:port][/db] or rediss:// for TLS, found nothing']],
    ['redis = redis://10.0.0.1?x=1\ngroup = web', ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis://10.0.0.1?x=***"']],
    ['redis = redis:///0\ngroup = web', ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis:///0"']],
    // A password in the URL is refused, and not repeated in the error.
    [`redis = redis://kw:${PASSWORD}@10.0.0.1\ngroup = web`, ['redis: expected no password in the URL (redis_password_file holds it), found "redis://kw:***@10.0.0.1"']],
    // ... also in a URL that is not one at all (a space, a port out of range, no "//").
    [`redis = redis://kw:${PASSWORD}@redis host\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis://kw:***@redis host"']],
    [`redis = redis://:${PASSWORD}@10.0.0.1:99999\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis://:***@10.0.0.1:99999"']],
    [`redis = x redis://kw:${PASSWORD}@10.0.0.1\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "x redis://kw:***@10.0.0.1"']],
    [`redis = redis:kw:${PASSWORD}@10.0.0.1\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis:***@10.0.0.1"']],
    [`redis = :${PASSWORD}@10.0.0.1\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found ":***@10.0.0.1"']],
    [`redis = kw:${PASSWORD}@10.0.0.1//x\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "kw:***@10.0.0.1//x"']],
    // A user without a password is shown as written.
    ['redis = redis://kw@10.0.0.1/16\ngroup = web', ['redis: expected a database number from 0 to 15 after the host, found "redis://kw@10.0.0.1/16"']],
    [`redis = kw:${PASSWORD}@10.0.0.1\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "kw:***@10.0.0.1"']],
    [`redis = redis://kw:p@${PASSWORD}@10.0.0.1:99999\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis://kw:***@10.0.0.1:99999"']],
    // ... nor in a query or a fragment: their values are masked, names stay; an '@' after a
    // '?' may end a password or be part of one: all after the ':' goes.
    [`redis = redis://10.0.0.1?password=${PASSWORD}\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis://10.0.0.1?password=***"']],
    [`redis = rediss://kw@10.0.0.1:6380/2?user=kw&password=${PASSWORD}&${PASSWORD}\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "rediss://kw@10.0.0.1:6380/2?user=***&password=***&***"']],
    [`redis = redis://kw:${PASSWORD}@10.0.0.1?password=${PASSWORD}\ngroup = web`, ['redis: expected no password in the URL (redis_password_file holds it), found "redis://kw:***@10.0.0.1?password=***"']],
    [`redis = redis://10.0.0.1:6379?password=a@${PASSWORD}\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis://10.0.0.1:***"']],
    [`redis = redis://kw:${PASSWORD}@10.0.0.1?x=a@${PASSWORD}\ngroup = web`, ['redis: expected no password in the URL (redis_password_file holds it), found "redis://kw:***"']],
    [`redis = redis://10.0.0.1?password=a@${PASSWORD}\ngroup = web`, ['redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis://10.0.0.1?password=***"']],
    // A password with a ';' or '#': ini cuts the line there, and what is left is masked too.
    [`redis = redis://kw:${PASSWORD}#x@10.0.0.1\ngroup = web`, [
      'line 2 redis: expected a value without ; or # (ini cuts the value there; put a space before an inline comment), found "redis://kw:***"',
      'redis: expected redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file), found "redis://kw:***"',
    ]],
    // Names and lists.
    ['redis = redis://10.0.0.1', ['group: expected a name of letters, digits and ._- (at most 63, starting with a letter or digit), found nothing']],
    ['redis = redis://10.0.0.1\ngroup =', ['group: expected a name of letters, digits and ._- (at most 63, starting with a letter or digit), found nothing']],
    ['redis = redis://10.0.0.1\ngroup = -web', ['group: expected a name of letters, digits and ._- (at most 63, starting with a letter or digit), found "-web"']],
    [`redis = redis://10.0.0.1\ngroup = ${'w'.repeat(64)}`, [`group: expected a name of letters, digits and ._- (at most 63, starting with a letter or digit), found "${'w'.repeat(64)}"`]],
    ['redis = redis://10.0.0.1\ngroup = web\nname = bad name', ['name: expected a name of letters, digits and ._- (at most 63, starting with a letter or digit), found "bad name"']],
    ['redis = redis://10.0.0.1\ngroup = web\npublish = ,', ['publish: expected grants, bans, both (grants, bans) or none, found ","']],
    ['redis = redis://10.0.0.1\ngroup = web\npublish = none, bans', ['publish: expected grants, bans, both (grants, bans) or none, found "none, bans"']],
    ['redis = redis://10.0.0.1\ngroup = web:*', ['group: expected a name of letters, digits and ._- (at most 63, starting with a letter or digit), found "web:*"']],
    ['redis = redis://10.0.0.1\ngroup = web\npublish = grants, sessions', ['publish: expected grants, bans, both (grants, bans) or none, found "grants, sessions"']],
    ['redis = redis://10.0.0.1\ngroup = web\nstream_length = 5', ['stream_length: expected a whole number from 100 to 10000000, found "5"']],
    ['redis = redis://10.0.0.1\ngroup = web\nchannel = x', ['channel: expected a key of [fleet] (redis, redis_password_file, redis_ca_file, group, name, publish, subscribe, stream_length), found "unknown key channel"']],
    // A CA only for TLS.
    ['redis = redis://10.0.0.1\ngroup = web\nredis_ca_file = /etc/knockwatch/ca.pem', ['redis_ca_file: expected a CA file only with a rediss:// URL (TLS), found "/etc/knockwatch/ca.pem"']],
    ['redis = rediss://10.0.0.1\ngroup = web\nredis_ca_file = /nonexistent/ca.pem', ['redis_ca_file: expected a readable PEM file of CA certificates, found "/nonexistent/ca.pem: ENOENT"']],
  ])('%j is refused', (body, expected) => {
    expect(problems(`[fleet]\n${body}\n`)).toEqual(expected.map((problem) => `/etc/knockwatch/k.ini [fleet] ${problem}`));
  });

  it.each([
    // in the userinfo, the query or the fragment; cut by ini at a ';' or '#'; before any section
    [`[fleet]\nredis = redis://kw:${PASSWORD}@10.0.0.1\ngroup = web\n`],
    [`[fleet]\nredis = redis://10.0.0.1?password=${PASSWORD}\ngroup = web\n`],
    [`[fleet]\nredis = redis://10.0.0.1:6379?a=b@${PASSWORD}\ngroup = web\n`],
    [`[fleet]\nredis = redis://kw:${PASSWORD}?x@10.0.0.1\ngroup = web\n`],
    [`[fleet]\nredis = redis://kw:${PASSWORD};x@10.0.0.1\ngroup = web\n`],
    [`[fleet]\nredis = redis://10.0.0.1/0?${PASSWORD}\ngroup = web\n`],
    [`redis = redis://kw:${PASSWORD}@10.0.0.1\n[fleet]\nredis = redis://10.0.0.1\ngroup = web\n`],
  ])('knockwatch check never prints a secret written into the Redis URL: %j', async (fleet) => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-fleet-check-'));
    try {
      writeFileSync(join(dir, 'k.ini'), `${fleet}${DOORS}`);
      writeFileSync(join(dir, 'kern.log'), '');
      const result = await cli('check', '--config', join(dir, 'k.ini'), '--log', join(dir, 'kern.log'), '--firewall', 'dry-run');
      expect([result.code, `${result.stdout}${result.stderr}`.includes(PASSWORD), /redis.*\*\*\*/.test(result.stderr)]).toEqual([2, false, true]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads URLs with an IPv6 host, an encoded user, a final slash; none, one kind or both, in any case', () => {
    const fleet = load(`[fleet]\nredis = redis://kw%40x@[2001:db8::1]:6390/15\ngroup = ${'w'.repeat(63)}\nname = b\npublish = none\nsubscribe =  Grants , \n`).fleet;
    expect(fleet && [fleet.redis, fleet.group.length, fleet.publish, fleet.subscribe]).toEqual([
      { tls: false, host: '2001:db8::1', port: 6390, database: 15, username: 'kw@x', text: 'redis://kw%40x@[2001:db8::1]:6390/15', ca: undefined }, 63,
      { grants: false, bans: false }, { grants: true, bans: false },
    ]);
    expect(load('[fleet]\nredis = redis://10.0.0.1/\ngroup = web\nname = b\n').fleet?.redis.database).toBe(0);
  });

  it('the default name is the host name up to its first dot, when it is a name', () => {
    const read = (hostname: string, name?: string): [string | undefined, string[]] => {
      const found: ConfigProblem[] = [];
      const reader = new SectionReader('/etc/knockwatch/k.ini', 'fleet', { redis: 'redis://10.0.0.1', group: 'web', ...(name === undefined ? {} : { name }) }, found);
      const fleet = readFleet(reader, '/etc/knockwatch', () => Buffer.from(''), () => '', () => hostname);
      return [fleet?.name, found.map(formatProblem)];
    };
    expect([read('web1.example.com'), read('web_2'), read('-web.example.com'), read('-web', 'bad name')]).toEqual([
      ['web1', []], ['web_2', []],
      [undefined, ['/etc/knockwatch/k.ini [fleet] name: expected a name of letters, digits and ._- (at most 63, starting with a letter or digit) (the host name is not one), found "-web"']],
      // A name given but wrong: that is the problem, not the host name.
      [undefined, ['/etc/knockwatch/k.ini [fleet] name: expected a name of letters, digits and ._- (at most 63, starting with a letter or digit), found "bad name"']],
    ]);
    // What ini would cut at '#' (and so never reaches here from a file) is refused as well; a
    // database is one or two digits right after the host.
    expect([parseRedisUrl('redis://10.0.0.1#x').ok, parseRedisUrl('redis://10.0.0.1/x/12').ok, parseRedisUrl('redis://10.0.0.1/12').ok]).toEqual([false, false, true]);
  });

  it('refuses an empty password file and a CA file without a certificate', () => {
    expect(problems('[fleet]\nredis = redis://10.0.0.1\ngroup = web\nredis_password_file = redis.pw\n', () => Buffer.from('\n'))).toEqual([
      '/etc/knockwatch/k.ini [fleet] redis_password_file: expected a password that is not empty, found "/etc/knockwatch/redis.pw: empty"',
    ]);
    expect(() => parseConfig(`[fleet]\nredis = rediss://10.0.0.1\ngroup = web\nredis_ca_file = ca.pem\n${DOORS}`, '/etc/knockwatch/k.ini', undefined, () => 'not a PEM')).toThrow(
      '/etc/knockwatch/k.ini [fleet] redis_ca_file: expected a PEM file of CA certificates, found "/etc/knockwatch/ca.pem: no certificate in it"');
  });

  it('reads a private CA for rediss:// from redis_ca_file', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const config = parseConfig(`[fleet]\nredis = rediss://10.0.0.1\ngroup = web\nredis_ca_file = ca.pem\n${DOORS}`, '/etc/knockwatch/k.ini', undefined, (path) => (path === '/etc/knockwatch/ca.pem' ? pem : ''));
    expect(config.fleet?.redis.ca).toBe(pem);
  });

  it('refuses a password file root does not own alone, naming the file and not its content', () => {
    const refuse = (): Buffer => { throw new Error('mode 0644: group or others have access (chmod 0600)'); };
    expect(problems('[fleet]\nredis = redis://10.0.0.1\ngroup = web\nredis_password_file = redis.pw\n', refuse)).toEqual([
      '/etc/knockwatch/k.ini [fleet] redis_password_file: expected a regular file owned by root that only root can read, found "/etc/knockwatch/redis.pw: mode 0644: group or others have access (chmod 0600)"',
    ]);
  });

  it('refuses a door\'s fleet that is not yes or no', () => {
    expect(problems('[fleet]\nredis = redis://10.0.0.1\ngroup = web\n[x]\nsequence = 1\nfleet = sometimes\n')).toEqual(['/etc/knockwatch/k.ini [x] fleet: expected yes or no, found "sometimes"']);
  });
});

describe('a Redis URL quoted by any config problem', () => {
  // Lines the fleet's own checks never see as its `redis` key: a list, no `=`, a key on the
  // section's line. Whatever problem quotes them shows no password.
  it.each([
    `[fleet]\nredis[] = redis://kw:${PASSWORD};x@h\ngroup = g\n[d]\nsequence = 1,2`,
    `[fleet]\nredis redis://kw:${PASSWORD}@h\ngroup = g\n[d]\nsequence = 1,2`,
    `[fleet]\nredis: rediss://kw:${PASSWORD}@h\ngroup = g\n[d]\nsequence = 1,2`,
    `[fleet] redis = redis://kw:${PASSWORD}@h\n[d]\nsequence = 1,2`,
  ])('%#', (text) => {
    let shown = '';
    try {
      parseConfig(text, 'knockwatch.ini');
    } catch (error) {
      shown = (error as Error).message;
    }
    expect(shown).not.toBe('');
    expect(shown.includes(PASSWORD)).toBe(false);
    expect(shown.includes('redis')).toBe(true);
  });
});
