import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { checkMessage, encodeMessage, type MessageContext } from '../../src/fleet/fleet-message.js';
import { grantKey, groupPrefix, messageKey, streamKey } from '../../src/fleet/fleet-keys.js';
import type { FleetMessage } from '../../src/fleet/fleet-message.js';
import { retryDelay } from '../../src/fleet/redis-link.js';

const NOW = Date.parse('2026-11-22T09:00:00Z');
const config = parseConfig('[options]\nbantime_max = 1d\n[openSSH]\nsequence = 7000,8000\nopen_for = 30\n[forever]\nsequence = 7100\nopen_for = 0\n[local]\nsequence = 7200\nfleet = no\n[closeSSH]\nsequence = 8000,7000\ncloses = openSSH\n', 'k.ini');
const context: MessageContext = { doors: new Map(config.doors.map((door) => [door.name, door])), banTimeMax: config.options.banTimeMax, subscribe: { grants: true, bans: true }, now: NOW };

const grant = (fields: Record<string, unknown>): string => JSON.stringify({ kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: NOW + 30_000, origin: 'a', ...fields });
const ban = (fields: Record<string, unknown>): string => JSON.stringify({ kind: 'ban', src: '203.0.113.7', until: NOW + 600_000, origin: 'a', ...fields });

describe('checkMessage', () => {
  it.each([
    // Accepted as sent.
    [grant({}), { kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: NOW + 30_000, origin: 'a' }],
    [grant({ expires: NOW + 35_000 }), { kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: NOW + 35_000, origin: 'a' }],
    [grant({ door: 'forever', expires: null }), { kind: 'grant', src: '203.0.113.7', door: 'forever', expires: null, origin: 'a' }],
    [grant({ src: '2001:db8::7' }), { kind: 'grant', src: '2001:db8::7', door: 'openSSH', expires: NOW + 30_000, origin: 'a' }],
    ['{"kind":"close","src":"203.0.113.7","door":"openSSH","origin":"a"}', { kind: 'close', src: '203.0.113.7', door: 'openSSH', origin: 'a' }],
    [ban({}), { kind: 'ban', src: '203.0.113.7', until: NOW + 600_000, origin: 'a' }],
    ['{"kind":"unban","src":"203.0.113.7","origin":"a"}', { kind: 'unban', src: '203.0.113.7', origin: 'a' }],
    // At the limits: 512 characters (JSON may carry spaces), a host name of 63, the longest ban.
    [' '.repeat(512 - grant({}).length) + grant({}), { kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: NOW + 30_000, origin: 'a' }],
    [ban({ origin: `web-1.${'x'.repeat(57)}` }), { kind: 'ban', src: '203.0.113.7', until: NOW + 600_000, origin: `web-1.${'x'.repeat(57)}` }],
    [ban({ until: NOW + 86_400_000 + 5_000 }), { kind: 'ban', src: '203.0.113.7', until: NOW + 86_400_000 + 5_000, origin: 'a' }],
    [ban({ until: 1 }), { kind: 'ban', src: '203.0.113.7', until: 1, origin: 'a' }],
    // A door open until closed takes a grant with an end too (a knock elsewhere with open_for).
    [grant({ door: 'forever', expires: NOW + 3_600_000 }), { kind: 'grant', src: '203.0.113.7', door: 'forever', expires: NOW + 3_600_000, origin: 'a' }],
  ])('accepts %s', (text, message) => {
    expect(checkMessage(text, context)).toEqual({ ok: true, message });
  });

  it.each([
    // Not a message at all.
    [42, 'not a message of at most 512 characters'],
    ['x'.repeat(513), 'not a message of at most 512 characters'],
    ['{"kind":', 'not JSON'],
    ['[1]', 'not an object'],
    ['null', 'not an object'],
    ['7', 'not an object'],
    ['"grant"', 'not an object'],
    [' '.repeat(513 - grant({}).length) + grant({}), 'not a message of at most 512 characters'],
    ['{"kind":"open"}', 'an unknown kind'],
    [grant({ ports: '1-65535' }), 'unknown fields in a grant'],
    [grant({ origin: 'a b' }), 'an origin that is not a host name'],
    [grant({ origin: 'a/' }), 'an origin that is not a host name'],
    [grant({ origin: 7 }), 'an origin that is not a host name'],
    [grant({ origin: 'x'.repeat(64) }), 'an origin that is not a host name'],
    [ban({ origin: undefined }), 'an origin that is not a host name'],
    [ban({ extra: 1 }), 'unknown fields in a ban'],
    ['{"kind":"unban","src":"203.0.113.7","door":"openSSH","origin":"a"}', 'unknown fields in a unban'],
    [grant({ door: 7 }), 'a door this host does not have'],
    [grant({ door: 'toString' }), 'a door this host does not have'],
    // Addresses: valid and canonical only.
    [grant({ src: '203.0.113.777' }), 'an invalid address'],
    [grant({ src: '203.000.113.7' }), 'an invalid address'],
    [grant({ src: '2001:DB8::7' }), 'an invalid address'],
    [grant({ src: ['203.0.113.7'] }), 'an invalid address'],
    ['{"kind":"unban","origin":"a"}', 'an invalid address'],
    // Doors: known here, shared, one that opens.
    [grant({ door: 'nope' }), 'a door this host does not have'],
    [grant({ door: 'closeSSH' }), 'a door this host does not have'],
    [grant({ door: 'local' }), 'a door kept local here (fleet = no)'],
    // Lifetimes: a time, within the door's open_for (and a little clock skew) from now.
    [grant({ expires: '1795348632147' }), 'a grant without a time it ends'],
    [grant({ expires: 1.5 }), 'a grant without a time it ends'],
    [grant({ expires: NOW + 35_001 }), 'a grant longer than the door\'s open_for'],
    [grant({ expires: null }), 'a grant until closed of a door with open_for'],
    [ban({ until: NOW + 86_400_000 + 5_001 }), 'a ban longer than bantime_max'],
    [ban({ until: -1 }), 'a ban without a time it ends'],
    [ban({ until: 0 }), 'a ban without a time it ends'],
    [grant({ expires: 2 ** 53 }), 'a grant without a time it ends'],
  ])('refuses %j: %s', (text, reason) => {
    expect(checkMessage(text, context)).toEqual({ ok: false, reason });
  });

  it('reads back what encodeMessage writes', () => {
    const message = { kind: 'close', src: '2001:db8::7', door: 'openSSH', origin: 'a' } as const;
    expect(checkMessage(encodeMessage(message), context)).toEqual({ ok: true, message });
  });

  it('refuses what this host does not subscribe to', () => {
    expect([
      checkMessage(grant({}), { ...context, subscribe: { grants: false, bans: true } }),
      checkMessage(ban({}), { ...context, subscribe: { grants: true, bans: false } }),
    ]).toEqual([
      { ok: false, reason: 'a grant (this host does not subscribe to grants)' },
      { ok: false, reason: 'a ban (this host does not subscribe to bans)' },
    ]);
  });
});

describe('retryDelay', () => {
  it.each([
    [0, 0.5, 100],
    [3, 0.5, 800],
    [9, 0.5, 30_000],
    [1000, 0.5, 30_000],
    [3, 0, 720],
    [3, 1, 880],
  ])('retry %i (jitter %d) waits %i ms', (retries, jitter, ms) => {
    expect(retryDelay(retries, 30_000, jitter)).toBe(ms);
  });
});

describe('the group\'s keys', () => {
  // Every key under knockwatch:<group>: (the ACL pattern); a close or unban names the key it deletes.
  it.each<[FleetMessage, string]>([
    [{ kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: null, origin: 'a' }, 'knockwatch:web:grant:openSSH/203.0.113.7'],
    [{ kind: 'close', src: '2001:db8::7', door: 'openSSH', origin: 'a' }, 'knockwatch:web:grant:openSSH/2001:db8::7'],
    [{ kind: 'ban', src: '203.0.113.7', until: NOW, origin: 'a' }, 'knockwatch:web:ban:203.0.113.7'],
    [{ kind: 'unban', src: '203.0.113.7', origin: 'a' }, 'knockwatch:web:ban:203.0.113.7'],
  ])('%j is stored under %s', (message, key) => {
    expect(messageKey('web', message)).toBe(key);
  });

  it('the stream and the prefix', () => {
    expect([streamKey('web'), groupPrefix('web'), grantKey('db', 'openSSH', '203.0.113.7')]).toEqual(['knockwatch:web:stream', 'knockwatch:web:', 'knockwatch:db:grant:openSSH/203.0.113.7']);
  });
});
