import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseCount, type Parsed } from './parse-values.js';
import type { ReadSecretFile } from './rotating-door.js';
import { maskRedisUrl } from './redis-url.js';
import { Secret, withoutFinalNewline } from './secret.js';
import { FLEET_NAME, type FleetKinds, type FleetOptions, type RedisEndpoint } from './fleet-options.js';
import type { SectionReader } from './section-reader.js';

// Group and host names (FLEET_NAME): key and stream names are built from them.
const NAME_EXPECTED = 'a name of letters, digits and ._- (at most 63, starting with a letter or digit)';

// The [fleet] section; undefined (with the problems recorded) when it does not make one.
export function readFleet(reader: SectionReader, baseDir: string, readSecret: ReadSecretFile, readFile: (path: string) => string, host: () => string = hostname): FleetOptions | undefined {
  const given = reader.text('redis');
  if (given === undefined || given === '') reader.problem('redis', 'the group\'s Redis, redis://[user@]host[:port][/db] or rediss:// for TLS', '');
  const endpoint = given === undefined || given === '' ? undefined : reader.parse('redis', parseRedisUrl);
  const ca = readCa(reader, baseDir, readFile, endpoint?.tls);
  const redis = endpoint === undefined ? undefined : { ...endpoint, ca };
  const password = readPassword(reader, baseDir, readSecret);
  const group = reader.parse('group', parseName);
  if (group === undefined && !reader.has('group')) reader.problem('group', NAME_EXPECTED, '');
  const name = reader.parse('name', parseName) ?? (reader.has('name') ? undefined : defaultName(reader, host()));
  const publish = reader.parse('publish', parseKinds, { grants: true, bans: true });
  const subscribe = reader.parse('subscribe', parseKinds, { grants: true, bans: true });
  const streamLength = reader.parse('stream_length', (text) => parseCount(text, 100, 10_000_000), 10_000);
  for (const key of reader.leftovers()) reader.problem(key, 'a key of [fleet] (redis, redis_password_file, redis_ca_file, group, name, publish, subscribe, stream_length)', `unknown key ${reader.originalKey(key)}`);
  if (redis === undefined || group === undefined || name === undefined) return undefined;
  return { redis, password, group, name, publish, subscribe, streamLength };
}

function defaultName(reader: SectionReader, host: string): string | undefined {
  const short = host.split('.')[0] ?? '';
  if (FLEET_NAME.test(short)) return short;
  reader.problem('name', `${NAME_EXPECTED} (the host name is not one)`, short);
  return undefined;
}

// The password, like a door's secret: a root-owned file only root can read, never printed.
function readPassword(reader: SectionReader, baseDir: string, readSecret: ReadSecretFile): Secret | undefined {
  const given = reader.text('redis_password_file');
  if (given === undefined) return undefined;
  const path = resolve(baseDir, given);
  let bytes: Buffer;
  try {
    bytes = withoutFinalNewline(readSecret(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    reader.problem('redis_password_file', 'a regular file owned by root that only root can read', `${path}: ${code ?? (error as Error).message}`);
    return undefined;
  }
  if (bytes.length === 0) {
    reader.problem('redis_password_file', 'a password that is not empty', `${path}: empty`);
    return undefined;
  }
  return new Secret(bytes);
}

// A private CA for rediss:// (a public certificate, not a secret).
function readCa(reader: SectionReader, baseDir: string, readFile: (path: string) => string, tls: boolean | undefined): string | undefined {
  const given = reader.text('redis_ca_file');
  if (given === undefined) return undefined;
  if (tls === false) {
    reader.problem('redis_ca_file', 'a CA file only with a rediss:// URL (TLS)', given);
    return undefined;
  }
  const path = resolve(baseDir, given);
  try {
    const pem = readFile(path);
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return pem;
    reader.problem('redis_ca_file', 'a PEM file of CA certificates', `${path}: no certificate in it`);
  } catch (error) {
    reader.problem('redis_ca_file', 'a readable PEM file of CA certificates', `${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return undefined;
}

export function parseRedisUrl(text: string): Parsed<Omit<RedisEndpoint, 'ca'>> {
  const expected = 'redis://[user@]host[:port][/db] or rediss://... (the password goes in redis_password_file)';
  // Shown without the secrets a URL can carry, should one have been written into it
  // (parsed or not); an accepted URL holds none, and is kept as shown all the same.
  const shown = maskRedisUrl(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, expected, found: shown };
  }
  if (url.password !== '') return { ok: false, expected: 'no password in the URL (redis_password_file holds it)', found: shown };
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return { ok: false, expected, found: shown };
  if (url.hostname === '' || url.search !== '' || url.hash !== '') return { ok: false, expected, found: shown };
  const database = url.pathname === '' || url.pathname === '/' ? 0 : /^\/\d{1,2}$/.test(url.pathname) ? Number(url.pathname.slice(1)) : -1;
  if (database < 0 || database > 15) return { ok: false, expected: 'a database number from 0 to 15 after the host', found: shown };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  return { ok: true, value: { tls: url.protocol === 'rediss:', host, port: url.port === '' ? 6379 : Number(url.port), database, username, text: shown } };
}

function parseName(text: string): Parsed<string> {
  return FLEET_NAME.test(text) ? { ok: true, value: text } : { ok: false, expected: NAME_EXPECTED, found: text };
}

// `grants, bans`, one of them, or `none`.
function parseKinds(text: string): Parsed<FleetKinds> {
  const words = text.split(',').map((word) => word.trim().toLowerCase()).filter((word) => word !== '');
  const expected = 'grants, bans, both (grants, bans) or none';
  if (words.length === 1 && words[0] === 'none') return { ok: true, value: { grants: false, bans: false } };
  if (words.length === 0 || words.some((word) => word !== 'grants' && word !== 'bans')) return { ok: false, expected, found: text };
  return { ok: true, value: { grants: words.includes('grants'), bans: words.includes('bans') } };
}
