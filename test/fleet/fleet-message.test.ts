import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { checkMessage, type MessageContext } from '../../src/fleet/fleet-message.js';
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
  ])('accepts %s', (text, message) => {
    expect(checkMessage(text, context)).toEqual({ ok: true, message });
  });

  it.each([
    // Not a message at all.
    [42, 'not a message of at most 512 characters'],
    ['x'.repeat(513), 'not a message of at most 512 characters'],
    ['{"kind":', 'not JSON'],
    ['[1]', 'not an object'],
    ['{"kind":"open"}', 'an unknown kind'],
    [grant({ ports: '1-65535' }), 'unknown fields in a grant'],
    [grant({ origin: 'a b' }), 'an origin that is not a host name'],
    // Addresses: valid and canonical only.
    [grant({ src: '203.0.113.777' }), 'an invalid address'],
    [grant({ src: '203.000.113.7' }), 'an invalid address'],
    [grant({ src: '2001:DB8::7' }), 'an invalid address'],
    [grant({ src: ['203.0.113.7'] }), 'an invalid address'],
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
  ])('refuses %j: %s', (text, reason) => {
    expect(checkMessage(text, context)).toEqual({ ok: false, reason });
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
