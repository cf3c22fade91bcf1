import { describe, expect, it } from 'vitest';
import { Access } from '../../src/access/access.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { Decision } from '../../src/engine/decisions.js';
import { FleetApplier, type FleetTarget } from '../../src/fleet/fleet-applier.js';
import type { FleetMessage } from '../../src/fleet/fleet-message.js';
import { FleetPublisher } from '../../src/fleet/fleet-publisher.js';

const NOW = Date.parse('2026-11-22T09:00:00Z');
const config = parseConfig('[options]\nwhitelist = 192.0.2.0/24\n[openSSH]\nsequence = 7000,8000\nopen_for = 30\n[local]\nsequence = 7200\nfleet = no\n[closeSSH]\nsequence = 8000,7000\ncloses = openSSH\n', 'k.ini');
const doors = new Map(config.doors.map((door) => [door.name, door]));

// This host: the real grants-and-bans store, and what reached its firewall.
function thisHost(): { access: Access; firewall: string[]; applier: FleetApplier; refused: string[] } {
  const access = new Access(config.doors, config.options);
  const firewall: string[] = [];
  const target: FleetTarget = {
    grant: (src, door) => access.grant(src, door),
    grants: () => access.grants(),
    bans: () => access.bans(),
    exempt: (src) => src.startsWith('192.0.2.'),
    openGrant: (grant, extend) => {
      access.restoreGrant(grant);
      firewall.push(`${extend ? '~' : '+'}${grant.src} ${grant.door} ${grant.origin ?? ''}`);
    },
    closeGrant: (src, door) => {
      access.close(src, door, NOW, 'fleet');
      firewall.push(`-${src} ${door}`);
    },
    ban: (ban) => {
      access.restoreBan(ban);
      firewall.push(`!${ban.src} ${ban.origin ?? ''}`);
    },
    unban: (src) => {
      access.unban(src, NOW);
      firewall.push(`~!${src}`);
    },
  };
  const refused: string[] = [];
  const applier = new FleetApplier(target, 'b', (now) => ({ doors, banTimeMax: config.options.banTimeMax, subscribe: { grants: true, bans: true }, now }), (reason) => refused.push(reason));
  return { access, firewall, applier, refused };
}

const text = (message: FleetMessage): string => JSON.stringify(message);
const grant = (src: string, expires: number | null, origin = 'a'): string => text({ kind: 'grant', src, door: 'openSSH', expires, origin });

describe('FleetApplier', () => {
  it('applies another host\'s grant, tagged; extends only to a later end; ignores its own', () => {
    const host = thisHost();
    host.applier.receive(grant('203.0.113.7', NOW + 20_000), NOW);
    host.applier.receive(grant('203.0.113.7', NOW + 10_000), NOW);
    host.applier.receive(grant('203.0.113.7', NOW + 25_000, 'c'), NOW);
    host.applier.receive(grant('203.0.113.8', NOW + 25_000, 'b'), NOW);
    host.applier.receive(grant('203.0.113.9', NOW - 1), NOW);
    expect(host.firewall).toEqual(['+203.0.113.7 openSSH a', '~203.0.113.7 openSSH c']);
    expect(host.access.grants().map((g) => [g.src, g.expires - NOW, g.origin])).toEqual([['203.0.113.7', 25_000, 'c']]);
    expect([host.applier.counts.applied, host.applier.counts.ignored, host.applier.counts.refused]).toEqual([2, 3, 0]);
  });

  it('this host\'s own ban wins over a remote grant; the whitelist wins over a remote ban', () => {
    const host = thisHost();
    host.access.restoreBan({ src: '203.0.113.7', until: NOW + 60_000, offenses: 1 });
    host.applier.receive(grant('203.0.113.7', NOW + 20_000), NOW);
    host.applier.receive(text({ kind: 'ban', src: '192.0.2.10', until: NOW + 60_000, origin: 'a' }), NOW);
    expect([host.firewall, host.access.grants(), host.access.bans().map((ban) => ban.src)]).toEqual([[], [], ['203.0.113.7']]);
  });

  it('a remote ban: tagged, not shortened by a shorter one; an unban lifts it', () => {
    const host = thisHost();
    host.applier.receive(text({ kind: 'ban', src: '203.0.113.7', until: NOW + 60_000, origin: 'a' }), NOW);
    host.applier.receive(text({ kind: 'ban', src: '203.0.113.7', until: NOW + 30_000, origin: 'c' }), NOW);
    expect(host.access.bans()).toEqual([{ src: '203.0.113.7', until: NOW + 60_000, offenses: 1, origin: 'a' }]);
    host.applier.receive(text({ kind: 'unban', src: '203.0.113.7', origin: 'c' }), NOW);
    expect([host.firewall, host.access.bans()]).toEqual([['!203.0.113.7 a', '~!203.0.113.7'], []]);
  });

  it('a remote grant knocked here too becomes this host\'s own', () => {
    const host = thisHost();
    host.applier.receive(grant('203.0.113.7', NOW + 20_000), NOW);
    host.access.completed('203.0.113.7', 'openSSH', NOW + 1000);
    expect(host.access.grants().map((g) => [g.expires - NOW, g.origin])).toEqual([[31_000, undefined]]);
  });

  it('refuses a bad message and counts it, applying nothing', () => {
    const host = thisHost();
    host.applier.receive(grant('203.0.113.700', NOW + 20_000), NOW);
    host.applier.receive(text({ kind: 'grant', src: '203.0.113.7', door: 'local', expires: NOW + 20_000, origin: 'a' }), NOW);
    expect([host.firewall, host.refused, host.applier.counts.refused]).toEqual([
      [], ['an invalid address', 'a door kept local here (fleet = no)'], 2,
    ]);
  });

  it('rebuild: remote grants and bans the keys no longer hold end; this host\'s own stay; the keys\' are applied', () => {
    const host = thisHost();
    host.applier.receive(grant('203.0.113.7', NOW + 20_000), NOW);
    host.applier.receive(text({ kind: 'ban', src: '198.51.100.1', until: NOW + 60_000, origin: 'a' }), NOW);
    host.access.restoreGrant({ src: '203.0.113.50', door: 'openSSH', ports: [], opened: NOW, expires: NOW + 20_000 });
    host.firewall.length = 0;
    const valid = host.applier.rebuild([grant('203.0.113.8', NOW + 20_000), grant('203.0.113.9', NOW + 20_000, 'b'), 'garbage'], NOW);
    expect(valid.map((message) => message.src)).toEqual(['203.0.113.8', '203.0.113.9']);
    expect(host.firewall).toEqual(['-203.0.113.7 openSSH', '~!198.51.100.1', '+203.0.113.8 openSSH a']);
    expect(host.access.grants().map((g) => [g.src, g.origin])).toEqual([['203.0.113.50', undefined], ['203.0.113.8', 'a']]);
  });

  it('a grant of this host\'s own ending when a remote one does stays its own (a restart or reload keeps the tag: src/runtime/state-file.ts)', () => {
    const host = thisHost();
    host.access.restoreGrant({ src: '203.0.113.7', door: 'openSSH', ports: [], opened: NOW, expires: NOW + 20_000 });
    host.applier.rebuild([grant('203.0.113.7', NOW + 20_000)], NOW);
    expect([host.access.grants().map((g) => g.origin), host.firewall, host.applier.counts.ignored]).toEqual([[undefined], [], 1]);
  });
});

describe('FleetApplier at its limits', () => {
  const ban = (src: string, until: number, origin = 'a'): string => text({ kind: 'ban', src, until, origin });
  const counts = (host: ReturnType<typeof thisHost>): number[] => [host.applier.counts.applied, host.applier.counts.ignored];

  it('a grant: one ending now is over; the same end again is nothing new; another address\'s ban or a ban ending now does not stop it', () => {
    const host = thisHost();
    host.access.restoreBan({ src: '203.0.113.9', until: NOW + 60_000, offenses: 1 });
    host.access.restoreBan({ src: '203.0.113.8', until: NOW, offenses: 1 });
    host.applier.receive(grant('203.0.113.7', NOW), NOW);
    host.applier.receive(grant('203.0.113.7', NOW + 20_000), NOW);
    host.applier.receive(grant('203.0.113.7', NOW + 20_000, 'c'), NOW);
    host.applier.receive(grant('203.0.113.8', NOW + 20_000), NOW);
    expect([host.firewall, counts(host)]).toEqual([['+203.0.113.7 openSSH a', '+203.0.113.8 openSSH a'], [2, 2]]);
  });

  it('a close ends the grant here, whoever sent it; a close of nothing is nothing', () => {
    const host = thisHost();
    host.applier.receive(grant('203.0.113.7', NOW + 20_000), NOW);
    host.applier.receive(text({ kind: 'close', src: '203.0.113.7', door: 'openSSH', origin: 'c' }), NOW);
    host.applier.receive(text({ kind: 'close', src: '203.0.113.8', door: 'openSSH', origin: 'c' }), NOW);
    expect([host.firewall, host.access.grants(), counts(host)]).toEqual([['+203.0.113.7 openSSH a', '-203.0.113.7 openSSH'], [], [2, 1]]);
  });

  it('a ban: one ending now is over; the same end again is nothing new; another address\'s ban is no reason; a longer one keeps this host\'s offense count', () => {
    const host = thisHost();
    host.access.restoreBan({ src: '203.0.113.9', until: NOW + 600_000, offenses: 3 });
    host.applier.receive(ban('203.0.113.7', NOW), NOW);
    host.applier.receive(ban('203.0.113.8', NOW + 60_000), NOW);
    host.applier.receive(ban('203.0.113.8', NOW + 60_000, 'c'), NOW);
    host.applier.receive(ban('203.0.113.9', NOW + 900_000), NOW);
    expect([host.firewall, counts(host)]).toEqual([['!203.0.113.8 a', '!203.0.113.9 a'], [2, 2]]);
    expect(host.access.bans().find((saved) => saved.src === '203.0.113.9')).toEqual({ src: '203.0.113.9', until: NOW + 900_000, offenses: 3, origin: 'a' });
  });

  it('an unban of an address not banned here is nothing, another address\'s ban notwithstanding', () => {
    const host = thisHost();
    host.applier.receive(ban('203.0.113.8', NOW + 60_000), NOW);
    host.applier.receive(text({ kind: 'unban', src: '203.0.113.7', origin: 'a' }), NOW);
    host.applier.receive(text({ kind: 'unban', src: '203.0.113.8', origin: 'a' }), NOW);
    expect([host.firewall, counts(host)]).toEqual([['!203.0.113.8 a', '~!203.0.113.8'], [2, 1]]);
  });

  it('rebuild ends a remote ban whose key is gone though a grant key names the address; an unban lifts one ban among others', () => {
    const host = thisHost();
    host.applier.receive(ban('203.0.113.7', NOW + 60_000), NOW);
    host.applier.receive(ban('203.0.113.8', NOW + 60_000), NOW);
    host.applier.receive(text({ kind: 'unban', src: '203.0.113.8', origin: 'a' }), NOW);
    expect(host.firewall.splice(0)).toEqual(['!203.0.113.7 a', '!203.0.113.8 a', '~!203.0.113.8']);
    host.applier.receive(ban('203.0.113.8', NOW + 60_000), NOW);
    host.firewall.length = 0;
    host.applier.rebuild([grant('203.0.113.7', NOW + 20_000), ban('203.0.113.8', NOW + 60_000)], NOW);
    expect([host.firewall, host.access.bans().map((b) => b.src)]).toEqual([['~!203.0.113.7', '+203.0.113.7 openSSH a'], ['203.0.113.8']]);
  });

  it('rebuild leaves alone what the keys still hold and this host\'s own ban', () => {
    const host = thisHost();
    host.applier.receive(grant('203.0.113.7', NOW + 20_000), NOW);
    host.applier.receive(ban('198.51.100.1', NOW + 60_000), NOW);
    host.access.restoreBan({ src: '198.51.100.2', until: NOW + 60_000, offenses: 1 });
    host.firewall.length = 0;
    host.applier.rebuild([grant('203.0.113.7', NOW + 20_000), ban('198.51.100.1', NOW + 60_000)], NOW);
    expect([host.firewall, host.access.grants().map((g) => g.src), host.access.bans().map((b) => b.src).sort()]).toEqual([[], ['203.0.113.7'], ['198.51.100.1', '198.51.100.2']]);
  });
});

describe('FleetPublisher', () => {
  const publisher = (): FleetPublisher => new FleetPublisher('a', { grants: true, bans: true }, () => doors);
  const at = { time: NOW, src: '203.0.113.7' };

  it.each<[string, Decision, FleetMessage | undefined]>([
    ['an open', { ...at, type: 'open', door: 'openSSH', ports: [], expires: NOW + 30_000.4 }, { kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: NOW + 30_000, origin: 'a' }],
    ['an extension', { ...at, type: 'extend', door: 'openSSH', expires: NOW + 40_000 }, { kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: NOW + 40_000, origin: 'a' }],
    ['a grant until closed', { ...at, type: 'open', door: 'openSSH', ports: [], expires: Infinity }, { kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: null, origin: 'a' }],
    ['a fleet = no door\'s open', { ...at, type: 'open', door: 'local', ports: [], expires: NOW + 30_000 }, undefined],
    ['a close door', { ...at, type: 'close', door: 'openSSH', by: 'closeSSH', byDoor: true }, { kind: 'close', src: '203.0.113.7', door: 'openSSH', origin: 'a' }],
    ['an admin close', { ...at, type: 'close', door: 'openSSH', by: 'admin' }, { kind: 'close', src: '203.0.113.7', door: 'openSSH', origin: 'a' }],
    ['a logout', { ...at, type: 'close', door: 'openSSH', by: 'logout' }, undefined],
    ['a revocation', { ...at, type: 'close', door: 'openSSH', by: 'revoked' }, undefined],
    ['a wrong knock', { ...at, type: 'close', door: 'openSSH', by: 'wrong-knock' }, undefined],
    ['a change the firewall did not take', { ...at, type: 'close', door: 'openSSH', by: 'not applied' }, undefined],
    ['an expiry', { ...at, type: 'expire', door: 'openSSH' }, undefined],
    ['a ban', { ...at, type: 'banned', until: NOW + 600_000, failures: 5, offense: 1 }, { kind: 'ban', src: '203.0.113.7', until: NOW + 600_000, origin: 'a' }],
  ])('%s', (_what, decision, message) => {
    expect(publisher().messageFor(decision)).toEqual(message);
  });

  it('announces an unban before the ban\'s end, not its expiry', () => {
    const early = publisher();
    early.messageFor({ ...at, type: 'banned', until: NOW + 600_000, failures: 5, offense: 1 });
    const expiry = publisher();
    expiry.messageFor({ ...at, type: 'banned', until: NOW + 600_000, failures: 5, offense: 1 });
    expect([
      early.messageFor({ ...at, type: 'unbanned', time: NOW + 1000 }),
      expiry.messageFor({ ...at, type: 'unbanned', time: NOW + 600_000 }),
      publisher().messageFor({ ...at, type: 'unbanned', time: NOW + 1000 }),
    ]).toEqual([{ kind: 'unban', src: '203.0.113.7', origin: 'a' }, undefined, undefined]);
  });

  it('silently: runs the work and gives its result; announces again after it, a throw included', () => {
    const quiet = publisher();
    const open: Decision = { ...at, type: 'open', door: 'openSSH', ports: [], expires: NOW + 30_000 };
    expect(quiet.silently(() => 7)).toBe(7);
    expect(() => quiet.silently(() => {
      throw new Error('applying failed');
    })).toThrow('applying failed');
    expect(quiet.messageFor(open)).toEqual({ kind: 'grant', src: '203.0.113.7', door: 'openSSH', expires: NOW + 30_000, origin: 'a' });
  });

  it('an unban here of a ban the group told it of is announced; an unban is announced once; not by a host that does not publish bans', () => {
    const told = publisher();
    told.knowBan('203.0.113.7', NOW + 600_000);
    const once = publisher();
    once.messageFor({ ...at, type: 'banned', until: NOW + 600_000, failures: 5, offense: 1 });
    once.messageFor({ ...at, type: 'open', door: 'openSSH', ports: [], expires: NOW + 30_000 });
    const none = new FleetPublisher('a', { grants: true, bans: false }, () => doors);
    none.messageFor({ ...at, type: 'banned', until: NOW + 600_000, failures: 5, offense: 1 });
    const unban: Decision = { ...at, type: 'unbanned', time: NOW + 1000 };
    expect([told.messageFor(unban), once.messageFor(unban), once.messageFor(unban), none.messageFor(unban)]).toEqual([
      { kind: 'unban', src: '203.0.113.7', origin: 'a' }, { kind: 'unban', src: '203.0.113.7', origin: 'a' }, undefined, undefined,
    ]);
  });

  it('a door this host does not have (gone in a reload) is not shared, and a login is not news', () => {
    expect([
      publisher().messageFor({ ...at, type: 'open', door: 'gone', ports: [], expires: NOW + 30_000 }),
      publisher().messageFor({ ...at, type: 'login', user: 'root', pid: 7 }),
    ]).toEqual([undefined, undefined]);
  });

  it('remembers a grant that ended here only (a logout, a revocation) until the group\'s keys no longer hold it or it opens again', () => {
    const ended = publisher();
    const key = (src: string): string => `openSSH ${src}`;
    for (const [src, by] of [['203.0.113.7', 'logout'], ['203.0.113.8', 'revoked'], ['203.0.113.9', 'closeSSH'], ['203.0.113.10', 'admin'], ['203.0.113.11', 'logout'], ['203.0.113.12', 'logout']] as const) {
      ended.messageFor({ ...at, src, type: 'open', door: 'openSSH', ports: [], expires: NOW + 30_000 });
      ended.messageFor({ ...at, src, type: 'close', door: 'openSSH', by, ...(by === 'closeSSH' ? { byDoor: true as const } : {}) });
    }
    ended.messageFor({ ...at, src: '203.0.113.12', type: 'extend', door: 'openSSH', expires: NOW + 40_000 });
    ended.messageFor({ ...at, type: 'close', door: 'local', by: 'logout' });
    const stored = ['203.0.113.7', '203.0.113.8', '203.0.113.9', '203.0.113.10', '203.0.113.12'].map(key).concat('local 203.0.113.7');
    expect([...ended.endedHereAmong(stored)]).toEqual([key('203.0.113.7'), key('203.0.113.8')]);
    // 203.0.113.11's key was gone: forgotten, as a later rebuild shows.
    expect([...ended.endedHereAmong([key('203.0.113.11'), key('203.0.113.7')])]).toEqual([key('203.0.113.7')]);
  });

  // Its key never ends and no other host's clock ends its copy: were a logout here not
  // told, the grant would stay open on every other host for good.
  it('closes across the group a grant until closed that ended here, by whatever ended it', () => {
    const untilClosed = parseConfig('[always]\nsequence = 7100\nopen_for = 0\n[closeAlways]\nsequence = 7200\ncloses = always\n', 'k.ini');
    const ended = new FleetPublisher('a', { grants: true, bans: true }, () => new Map(untilClosed.doors.map((door) => [door.name, door])));
    const messages = ['logout', 'revoked', 'wrong-knock', 'not applied', 'closeAlways', 'admin'].map((by) => {
      ended.messageFor({ ...at, type: 'open', door: 'always', ports: [], expires: Infinity });
      return ended.messageFor({ ...at, type: 'close', door: 'always', by, ...(by === 'closeAlways' ? { byDoor: true as const } : {}) });
    });
    expect(messages).toEqual(Array.from({ length: 6 }, () => ({ kind: 'close', src: '203.0.113.7', door: 'always', origin: 'a' })));
    // None is left for a rebuild to keep in the group.
    expect([...ended.endedHereAmong(['always 203.0.113.7'])]).toEqual([]);
  });

  // A close decision says whether a close door closed it: the door's name does not, as a door
  // may be named like a reason (a knockd config's [logout] or [admin]).
  it('tells a close door\'s close from a reason of the same name', () => {
    const named = parseConfig('[openSSH]\nsequence = 7000,8000\nopen_for = 30\n[logout]\nsequence = 8000,7000\ncloses = openSSH\n[admin]\nsequence = 9000,7000\ncloses = openSSH\n', 'k.ini');
    const sharing = new FleetPublisher('a', { grants: true, bans: true }, () => new Map(named.doors.map((door) => [door.name, door])));
    const close = (by: string, byDoor: boolean): FleetMessage | undefined => {
      sharing.messageFor({ ...at, type: 'open', door: 'openSSH', ports: [], expires: NOW + 30_000 });
      return sharing.messageFor({ ...at, type: 'close', door: 'openSSH', by, ...(byDoor ? { byDoor } : {}) });
    };
    const told: FleetMessage = { kind: 'close', src: '203.0.113.7', door: 'openSSH', origin: 'a' };
    expect([close('logout', true), close('logout', false), close('admin', true), close('admin', false)]).toEqual([told, undefined, told, told]);
  });

  it('forgets a grant that ended here only once its key has surely ended (open_for and a minute after)', () => {
    const timed = parseConfig('[openSSH]\nsequence = 7000,8000\nopen_for = 30\n', 'k.ini');
    const ended = new FleetPublisher('a', { grants: true, bans: true }, () => new Map(timed.doors.map((door) => [door.name, door])));
    const logout = (src: string, door: string, time: number): void => {
      ended.messageFor({ time, src, type: 'open', door, ports: [], expires: time + 30_000 });
      ended.messageFor({ time, src, type: 'close', door, by: 'logout' });
    };
    logout('203.0.113.7', 'openSSH', NOW);
    logout('203.0.113.9', 'openSSH', NOW + 1000);
    // 203.0.113.7's key ended by NOW + 90 s at the latest; 203.0.113.9's not yet.
    logout('203.0.113.10', 'openSSH', NOW + 90_000);
    const stored = ['openSSH 203.0.113.7', 'openSSH 203.0.113.9', 'openSSH 203.0.113.10'];
    expect([...ended.endedHereAmong(stored)]).toEqual(['openSSH 203.0.113.9', 'openSSH 203.0.113.10']);
  });

  it('announces nothing while the group\'s messages are applied, nor what it was told not to publish', () => {
    const quiet = publisher();
    const none = new FleetPublisher('a', { grants: false, bans: false }, () => doors);
    const open: Decision = { ...at, type: 'open', door: 'openSSH', ports: [], expires: NOW + 30_000 };
    const banned: Decision = { ...at, type: 'banned', until: NOW + 600_000, failures: 5, offense: 1 };
    expect([quiet.silently(() => quiet.messageFor(open)), none.messageFor(open), none.messageFor(banned)]).toEqual([undefined, undefined, undefined]);
  });
});
