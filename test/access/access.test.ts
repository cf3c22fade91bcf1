import { describe, expect, it } from 'vitest';
import { Access } from '../../src/access/access.js';
import { MAX_ATTEMPT_CONNECTIONS } from '../../src/access/failure-counter-attempts.js';
import type { Decision } from '../../src/engine/decisions.js';
import type { SshAuth, SshAuthKind, SshClass } from '../../src/filters/events.js';
import { config } from '../helpers/engine.js';

const A = '203.0.113.7';
const B = '203.0.113.8';
const WHITELISTED = '192.0.2.10';

const INI = `[options]
whitelist = 192.0.2.0/24
maxretry = 3
findtime = 60
bantime = 100
bantime_max = 350
[open]
sequence = 1,2
open_for = 30
[kept]
sequence = 3,4
open_for = 0
[closing]
sequence = 5,6
open_for = 0
close_on_logout = yes
[close]
sequence = 2,1
closes = open
`;

function accessOf(ini = INI): Access {
  const { doors, options } = config(ini);
  return new Access(doors, options);
}

// The class filters/sshd.conf gives each kind these tests use.
const CLASS_OF: Partial<Record<SshAuthKind, SshClass>> = {
  'accepted': 'login', 'session-opened': 'login', 'session-closed': 'logout', 'disconnected': 'logout', 'received-disconnect': 'noise',
};

function ssh(at: number, kind: SshAuthKind, pid: number, src: string | undefined = A, invalidUser = false): SshAuth {
  return { type: 'ssh', time: at * 1000, class: CLASS_OF[kind] ?? 'failure', kind, pid, src, user: 'u', method: undefined, invalidUser };
}

// Decisions as short strings: "close A open by revoked", "banned A 100s".
function short(decisions: readonly Decision[]): string[] {
  return decisions.map((d) => {
    const who = d.src === A ? 'A' : d.src === B ? 'B' : d.src;
    switch (d.type) {
      case 'close': return `close ${who} ${d.door} by ${d.by}`;
      case 'banned': return `banned ${who} ${(d.until - d.time) / 1000}s`;
      case 'open': case 'extend': case 'expire': return `${d.type} ${who} ${d.door}`;
      default: return `${d.type} ${who}`;
    }
  });
}

describe('a completed door', () => {
  it('opens its grant, and extends it when completed again', () => {
    const access = accessOf();
    expect(short(access.completed(A, 'open', 0))).toEqual(['open A open']);
    expect(short(access.completed(A, 'open', 10_000))).toEqual(['extend A open']);
    expect(access.grants()).toEqual([{ src: A, door: 'open', ports: [{ port: 22, proto: 'tcp' }], opened: 0, expires: 40_000 }]);
  });

  it('that closes another door closes that door\'s grant, and only that address\'s', () => {
    const access = accessOf();
    access.completed(A, 'open', 0);
    access.completed(B, 'open', 0);
    access.completed(A, 'kept', 0);
    expect(access.completed(A, 'close', 5000)).toEqual([{ type: 'close', time: 5000, src: A, door: 'open', by: 'close', byDoor: true }]);
    expect(access.grants().map((grant) => `${grant.src} ${grant.door}`)).toEqual([`${B} open`, `${A} kept`]);
  });

  it('of a name this config does not know opens nothing', () => {
    const access = accessOf();
    expect(access.completed(A, 'gone', 0)).toEqual([]);
    expect(access.grants()).toEqual([]);
  });
});

describe('a logout', () => {
  it('closes only the close_on_logout grants; a door without it keeps its grant', () => {
    const access = accessOf();
    access.completed(A, 'kept', 0);
    access.completed(A, 'closing', 0);
    access.handleSsh(ssh(1, 'accepted', 10));
    expect(short(access.handleSsh(ssh(5, 'disconnected', 10)))).toEqual(['logout A', 'close A closing by logout']);
    expect(access.grants().map((grant) => grant.door)).toEqual(['kept']);
  });

  it('closes them once logout_grace has passed, as time moves on', () => {
    const access = accessOf(INI.replace('[options]\n', '[options]\nlogout_grace = 10\n'));
    access.completed(A, 'closing', 0);
    access.handleSsh(ssh(1, 'accepted', 10));
    expect(short(access.handleSsh(ssh(5, 'disconnected', 10)))).toEqual(['logout A']);
    expect(access.advanceTo(14_999)).toEqual([]);
    expect(short(access.advanceTo(15_000))).toEqual(['close A closing by logout']);
  });

  // A knock after the last session ended opens the door for a session to come: the logout
  // before it does not close that grant, whether the knock opened it or extended it.
  it.each([
    ['opened', 'closing2', ['close A closing by logout'], ['closing2']],
    ['extended', 'closing', [], ['closing']],
  ])('leaves a grant %s by a knock during logout_grace open', (_how, knocked, closed, kept) => {
    const access = accessOf(`${INI.replace('[options]\n', '[options]\nlogout_grace = 10\n')}[closing2]\nsequence = 7,8\nopen_for = 0\nclose_on_logout = yes\n`);
    access.completed(A, 'closing', 0);
    access.handleSsh(ssh(1, 'accepted', 10));
    access.handleSsh(ssh(5, 'disconnected', 10));
    access.completed(A, knocked, 12_000);
    expect(short(access.advanceTo(15_000))).toEqual(closed);
    expect(access.grants().map((grant) => grant.door)).toEqual(kept);
  });

  it('closes them too on an sshd line that names no address and no known connection', () => {
    const access = accessOf(INI.replace('[options]\n', '[options]\nlogout_grace = 10\n'));
    access.completed(A, 'closing', 0);
    access.handleSsh(ssh(1, 'accepted', 10));
    access.handleSsh(ssh(5, 'disconnected', 10));
    expect(short(access.handleSsh({ ...ssh(15, 'session-closed', 99), src: undefined }))).toEqual(['close A closing by logout']);
  });

  it('leaves alone a restored grant of a door this config no longer has', () => {
    const access = accessOf();
    access.restoreGrant({ src: A, door: 'gone', ports: [], opened: 0, expires: 50_000 });
    access.completed(A, 'closing', 0);
    access.handleSsh(ssh(1, 'accepted', 10));
    expect(short(access.handleSsh(ssh(5, 'disconnected', 10)))).toEqual(['logout A', 'close A closing by logout']);
    expect(access.grants().map((grant) => grant.door)).toEqual(['gone']);
  });
});

describe('a logout in its logout_grace and the state file', () => {
  const GRACE = INI.replace('[options]\n', '[options]\nlogout_grace = 10\n');

  // A restart forgets a knock during the grace: the logout it kept from closing the grant stays out of the file.
  it('is saved, but for an address that knocked its grant again since', () => {
    const access = accessOf(GRACE);
    access.completed(A, 'closing', 0);
    access.completed(B, 'closing', 0);
    access.handleSsh(ssh(1, 'accepted', 10));
    access.handleSsh(ssh(1, 'accepted', 11, B));
    access.handleSsh(ssh(5, 'disconnected', 10));
    access.handleSsh(ssh(6, 'disconnected', 11, B));
    expect(access.saved().logouts).toEqual([{ src: A, ended: 5000 }, { src: B, ended: 6000 }]);
    access.completed(B, 'closing', 8000);
    expect(access.saved().logouts).toEqual([{ src: A, ended: 5000 }]);
  });

  // A knock in an earlier grace is older than this logout: the logout is saved.
  it('is saved for an address whose knock came in an earlier grace, before a later login', () => {
    const access = accessOf(GRACE);
    access.completed(A, 'closing', 0);
    access.handleSsh(ssh(1, 'accepted', 10));
    access.handleSsh(ssh(5, 'disconnected', 10));
    access.completed(A, 'closing', 6000);
    access.handleSsh(ssh(7, 'accepted', 12));
    access.handleSsh(ssh(9, 'disconnected', 12));
    expect(access.saved().logouts).toEqual([{ src: A, ended: 9000 }]);
  });

  it('closes the restored grant once the grace from the saved end has passed, but for an address logged in', () => {
    const access = accessOf(GRACE);
    access.restoreGrant({ src: A, door: 'closing', ports: [], opened: 0, expires: Infinity });
    access.restoreGrant({ src: B, door: 'closing', ports: [], opened: 0, expires: Infinity });
    access.restoreSaved({ sessions: [{ pid: 11, src: B, since: 7000 }], logouts: [{ src: A, ended: 5000 }, { src: B, ended: 6000 }] });
    expect(access.saved().logouts).toEqual([{ src: A, ended: 5000 }]);
    expect(access.advanceTo(14_999)).toEqual([]);
    expect(short(access.advanceTo(15_000))).toEqual(['close A closing by logout']);
    expect(access.grants().map((grant) => grant.src)).toEqual([B]);
  });
});

describe('failed logins', () => {
  // [seconds, kind, pid, address (A when left out, null: the line names none), invalid user?]
  type Step = [number, SshAuthKind, number, (string | null)?, boolean?];
  const run = (steps: Step[]): string[] => {
    const access = accessOf();
    return steps.flatMap(([at, kind, pid, src, invalid]) => short(access.handleSsh({ ...ssh(at, kind, pid, A, invalid ?? kind === 'invalid-user'), src: src === null ? undefined : src ?? A })));
  };

  it.each<[string, Step[], string[]]>([
    ['maxretry failures within findtime ban', [[0, 'failed', 1], [1, 'failed', 1], [2, 'failed', 2]],
      ['failure A', 'failure A', 'failure A', 'banned A 100s']],
    ['failures spread beyond findtime do not', [[0, 'failed', 1], [50, 'failed', 2], [100, 'failed', 3], [150, 'failed', 4]],
      ['failure A', 'failure A', 'failure A', 'failure A']],
    ['"Invalid user" and its first "Failed ... invalid user" are one attempt', [[0, 'invalid-user', 5], [0.2, 'failed', 5, A, true], [1, 'failed', 5, A, true], [2, 'failed', 5, A, true]],
      ['failure A', 'failure A', 'failure A', 'banned A 100s']],
    // one attempt, one count, however many lines sshd writes for it (per connection: pid and address)
    ['"Invalid user", the PAM error and the "Failed" line of one attempt count once', [[0, 'invalid-user', 5], [0.1, 'pam-failure', 5], [0.2, 'failed', 5, A, true], [1, 'pam-failure', 5], [1.1, 'failed', 5, A, true]],
      ['failure A', 'failure A']],
    ['"maximum authentication attempts exceeded" after the failures it sums up counts nothing more', [[0, 'failed', 5], [1, 'failed', 5], [2, 'max-attempts', 5], [2, 'too-many-failures', 5, null]],
      ['failure A', 'failure A']],
    ['a summing-up line counts once on a connection whose attempts did not count', [[0, 'max-attempts', 5], [0, 'too-many-failures', 5], [0, 'auth-fail', 5]],
      ['failure A']],
    ['the same pid from another address is another connection', [[0, 'invalid-user', 5, A], [0.2, 'failed', 5, B, true], [1, 'max-attempts', 5, B]],
      ['failure A', 'failure B']],
    ['a connection that ended and a new one on its pid count apart', [[0, 'failed', 5], [1, 'disconnected', 5], [2, 'max-attempts', 5]],
      ['failure A', 'failure A']],
    // a failure that names no address counts when a line of its pid names one, within LoginGraceTime
    ['"account is locked", then its connection\'s address', [[0, 'not-allowed', 7, null], [1, 'received-disconnect', 7], [2, 'disconnected', 7]],
      ['failure A']],
    ['"account is locked", then its "Failed ... invalid user" line', [[0, 'not-allowed', 7, null], [1, 'failed', 7, A, true], [2, 'failed', 7, A, true]],
      ['failure A', 'failure A']],
    ['"account is locked" whose pid names an address only after LoginGraceTime', [[0, 'not-allowed', 7, null], [121, 'received-disconnect', 7]],
      []],
    ['"account is locked" whose pid names an address at an earlier time (the log went back)', [[10, 'not-allowed', 7, null], [5, 'received-disconnect', 7]],
      []],
    ['a whitelisted address is never banned', [[0, 'failed', 1, WHITELISTED], [1, 'failed', 1, WHITELISTED], [2, 'failed', 1, WHITELISTED], [3, 'failed', 1, WHITELISTED]], []],
    ['a repeat offender is banned twice as long, up to bantime_max', [
      [0, 'failed', 1], [1, 'failed', 1], [2, 'failed', 1],
      [200, 'failed', 2], [201, 'failed', 2], [202, 'failed', 2],
      [500, 'failed', 3], [501, 'failed', 3], [502, 'failed', 3],
    ], [
      'failure A', 'failure A', 'failure A', 'banned A 100s',
      'failure A', 'failure A', 'failure A', 'banned A 200s',
      'failure A', 'failure A', 'failure A', 'banned A 350s',
    ]],
    ['failures while banned are not counted again', [[0, 'failed', 1], [1, 'failed', 1], [2, 'failed', 1], [3, 'failed', 1]],
      ['failure A', 'failure A', 'failure A', 'banned A 100s']],
  ])('%s', (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });

  const other = (pid: number): string => `198.51.${pid >> 8 & 255}.${pid & 255}`;
  // "User root not allowed because account is locked": a failure whose line names no address
  const locked = (pid: number): SshAuth => ({ ...ssh(0, 'not-allowed', pid), src: undefined });

  it('past the cap, forgets the failure held longest without an address, and only that one', () => {
    const access = accessOf();
    access.handleSsh(locked(1));
    for (let pid = 2; pid <= MAX_ATTEMPT_CONNECTIONS; pid++) access.handleSsh(locked(pid));
    // held again: pid 1 is now the one held last, pid 2 the one held longest
    access.handleSsh(locked(1));
    access.handleSsh(locked(MAX_ATTEMPT_CONNECTIONS + 1));
    expect(short(access.handleSsh(ssh(1, 'received-disconnect', 2)))).toEqual([]);
    expect(short(access.handleSsh(ssh(1, 'received-disconnect', 1)))).toEqual(['failure A']);
    expect(short(access.handleSsh(ssh(1, 'received-disconnect', 3, B)))).toEqual(['failure B']);
  });

  it('past the cap, forgets the oldest connection\'s attempts, and only that one', () => {
    const access = accessOf();
    access.handleSsh(ssh(0, 'invalid-user', 1, A, true));
    access.handleSsh(ssh(0, 'invalid-user', 2, B, true));
    for (let pid = 3; pid <= MAX_ATTEMPT_CONNECTIONS + 1; pid++) access.handleSsh(ssh(0, 'failed', pid, other(pid)));
    // B's "Failed ... invalid user" is still the attempt its "Invalid user" counted; A's is new
    expect(short(access.handleSsh(ssh(1, 'failed', 2, B, true)))).toEqual([]);
    expect(short(access.handleSsh(ssh(1, 'failed', 1, A, true)))).toEqual(['failure A']);
  });

  it('a ban revokes every grant of the address, and only of that address', () => {
    const access = accessOf();
    access.completed(A, 'open', 0);
    access.completed(A, 'kept', 0);
    access.completed(B, 'open', 0);
    const decisions = [0, 1, 2].flatMap((at) => short(access.handleSsh(ssh(at, 'failed', 1))));
    expect(decisions).toEqual(['failure A', 'failure A', 'failure A', 'banned A 100s', 'close A open by revoked', 'close A kept by revoked']);
    expect(access.grants().map((grant) => `${grant.src} ${grant.door}`)).toEqual([`${B} open`]);
  });

  it('lifts a ban when it runs out, or when an admin says so', () => {
    const access = accessOf();
    for (const at of [0, 1, 2]) access.handleSsh(ssh(at, 'failed', 1));
    expect(access.bannedUntil(A, 50_000)).toBe(102_000);
    expect(access.cleanup(101_000)).toEqual([]);
    expect(access.cleanup(102_000)).toEqual([{ type: 'unbanned', time: 102_000, src: A }]);
    expect(access.bannedUntil(A, 102_000)).toBeUndefined();
    for (const at of [200, 201, 202]) access.handleSsh(ssh(at, 'failed', 2));
    expect(access.bans()).toEqual([{ src: A, until: 402_000, offenses: 2 }]);
    expect(access.unban(A, 250_000)).toEqual([{ type: 'unbanned', time: 250_000, src: A }]);
    expect(access.unban(A, 250_000)).toEqual([]);
    expect(access.bannedUntil(A, 250_000)).toBeUndefined();
  });
});

describe('grants restored and forgotten', () => {
  it('expire on time after a restore, and a forgotten grant makes no decision', () => {
    const access = accessOf();
    access.restoreGrant({ src: A, door: 'open', ports: [], opened: 0, expires: 7000 });
    access.completed(B, 'open', 0);
    access.forget(B, 'open', 1000);
    expect(access.advanceTo(6999)).toEqual([]);
    expect(access.advanceTo(7000)).toEqual([{ type: 'expire', time: 7000, src: A, door: 'open' }]);
    expect(access.grants()).toEqual([]);
  });
});
