import { describe, expect, it } from 'vitest';
import { MAX_CONNECTIONS, SshSessions, type SshOutcome } from '../../src/access/ssh-sessions.js';
import type { SshAuth, SshAuthKind, SshClass } from '../../src/filters/events.js';

const A = '203.0.113.7';
const B = '203.0.113.8';

type Step = [number, SshAuthKind, number, string?, boolean?];

// The class filters/sshd.conf gives each kind these tests use.
const CLASS_OF: Partial<Record<SshAuthKind, SshClass>> = {
  'accepted': 'login', 'session-opened': 'login', 'session-closed': 'logout', 'disconnected': 'logout', 'received-disconnect': 'noise',
};

function event(at: number, kind: SshAuthKind, pid: number, src?: string, invalidUser?: boolean): SshAuth {
  return { type: 'ssh', time: at * 1000, class: CLASS_OF[kind] ?? 'failure', kind, pid, src, user: 'u', method: undefined, invalidUser: invalidUser ?? kind === 'invalid-user' };
}

// [seconds, kind, pid, src, invalid user?] → what each line meant, as "type src" strings
// ("failed src" for a failure to count, "close src" for a logout that is due).
function run(steps: Step[], logoutGrace = 0): string[] {
  const sessions = new SshSessions(logoutGrace);
  const out: string[] = [];
  for (const [at, kind, pid, src, invalidUser] of steps) {
    const outcome = sessions.handle(event(at, kind, pid, src, invalidUser));
    for (const decision of outcome?.decisions ?? []) out.push(`${decision.type} ${decision.src}`);
    if (outcome?.failed) out.push(`failed ${outcome.src}`);
    for (const due of sessions.dueLogouts(at * 1000)) out.push(`close ${due.src}`);
  }
  return out;
}

describe('sessions', () => {
  it.each<[string, Step[], string[]]>([
    ['a logout ends the only session', [[0, 'accepted', 10, A], [1, 'session-opened', 10], [5, 'disconnected', 10, A], [5, 'session-closed', 10]],
      [`login ${A}`, `logout ${A}`, `close ${A}`]],
    ['pam_unix session closed (no address) ends it through the pid', [[0, 'accepted', 10, A], [5, 'session-closed', 10]],
      [`login ${A}`, `logout ${A}`, `close ${A}`]],
    // A's lines that ended its session were lost, and its pid came back for B's connection: a
    // line of that pid naming B ends A's session, and B's failures that name no address are
    // B's, not A's (A is never charged for them).
    ['a pid that names another address than its login is another connection now',
      [[0, 'accepted', 10, A], [50, 'failed', 10, B], [51, 'too-many-failures', 10]],
      [`login ${A}`, `logout ${A}`, `failed ${B}`, `close ${A}`]],
    // (the failure that names no address waits for a line that does)
    ['so is one whose noise line names another address', [[0, 'accepted', 10, A], [50, 'received-disconnect', 10, B], [51, 'too-many-failures', 10]],
      [`login ${A}`, `logout ${A}`, `close ${A}`]],
    ['only the last of several sessions counts', [[0, 'accepted', 10, A], [1, 'accepted', 11, A], [5, 'disconnected', 10, A], [9, 'disconnected', 11, A]],
      [`login ${A}`, `login ${A}`, `logout ${A}`, `close ${A}`]],
    ['a connection that never logged in is no logout', [[0, 'failed', 12, A], [1, 'disconnected', 12, A]],
      [`failed ${A}`]],
    ['an "Invalid user" connection that ends is no logout', [[0, 'invalid-user', 12, A], [1, 'disconnected', 12, A]],
      [`failed ${A}`]],
    ['a disconnect for an unknown pid is ignored', [[0, 'disconnected', 99, A]], []],
    // one failed attempt, however many lines sshd writes for it
    ['"Invalid user" and its first "Failed ... invalid user" are one attempt', [[0, 'invalid-user', 5, A], [0.2, 'failed', 5, A, true], [1, 'failed', 5, A, true]],
      [`failed ${A}`, `failed ${A}`]],
    ['a "Failed ... invalid user" whose "Invalid user" line was not seen counts', [[0, 'failed', 5, A, true]],
      [`failed ${A}`]],
    ['a "Failed ... invalid user" on the pid of a login is an attempt of its own', [[0, 'accepted', 10, A], [1, 'failed', 10, A, true]],
      [`login ${A}`, `failed ${A}`]],
    // the log began after the login: the pam line is of no known connection, no failure
    // sshd's logout lines were lost and the pid came back: its first connection has ended
    ['a pid that logs in again from another address ends its first connection', [[0, 'accepted', 10, A], [5, 'accepted', 10, B], [9, 'disconnected', 10, B]],
      [`login ${A}`, `logout ${A}`, `login ${B}`, `close ${A}`, `logout ${B}`, `close ${B}`]],
    ['a pid that logs in again from the same address keeps its session', [[0, 'accepted', 10, A], [5, 'accepted', 10, A], [9, 'disconnected', 10, A]],
      [`login ${A}`, `login ${A}`, `logout ${A}`, `close ${A}`]],
    ['a session whose login was before the log began ends without a failure', [[0, 'session-opened', 10], [5, 'disconnected', 10, A], [5, 'session-closed', 10]],
      []],
  ])('%s', (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });

  it('waits logout_grace, and a new login meanwhile keeps the door', () => {
    expect(run([[0, 'accepted', 10, A], [5, 'disconnected', 10, A], [6, 'accepted', 11, A], [20, 'session-opened', 11]], 3000))
      .toEqual([`login ${A}`, `logout ${A}`, `login ${A}`]);
    // due at 8 s: not yet at 7 s, done at 8.5 s
    expect(run([[0, 'accepted', 10, A], [5, 'disconnected', 10, A], [7, 'session-opened', 99]], 3000))
      .toEqual([`login ${A}`, `logout ${A}`]);
    expect(run([[0, 'accepted', 10, A], [5, 'disconnected', 10, A], [7, 'session-opened', 99], [8.5, 'session-opened', 99]], 3000))
      .toEqual([`login ${A}`, `logout ${A}`, `close ${A}`]);
  });
});

// With a logout_grace, each address's logout is due at its own time, however the others were
// read before it: the waiting logouts are read only once one may be due.
describe('logouts waiting for logout_grace', () => {
  const C = '203.0.113.9';
  it.each<[string, Step[], string[]]>([
    ['one due, the later one still waits, and is due at its own time',
      [[0, 'accepted', 10, A], [1, 'accepted', 11, B], [2, 'disconnected', 10, A], [6, 'disconnected', 11, B], [11, 'received-disconnect', 12, C], [15, 'received-disconnect', 12, C], [16, 'received-disconnect', 12, C]],
      [`login ${A}`, `login ${B}`, `logout ${A}`, `logout ${B}`, `close ${A}`, `close ${B}`]],
    ['a logout read after a later one (the log stepped back) is due first',
      [[0, 'accepted', 10, A], [1, 'accepted', 11, B], [20, 'disconnected', 10, A], [12, 'disconnected', 11, B], [21, 'received-disconnect', 12, C], [29, 'received-disconnect', 12, C], [30, 'received-disconnect', 12, C]],
      [`login ${A}`, `login ${B}`, `logout ${A}`, `logout ${B}`, `close ${B}`, `close ${A}`]],
    ['two due at once come in the order they started to wait, not by their end times',
      [[0, 'accepted', 10, A], [1, 'accepted', 11, B], [5, 'disconnected', 10, A], [2, 'disconnected', 11, B], [20, 'received-disconnect', 12, C]],
      [`login ${A}`, `login ${B}`, `logout ${A}`, `logout ${B}`, `close ${A}`, `close ${B}`]],
    ['an address that logs in again waits no more, and the next one is due at its time',
      [[0, 'accepted', 10, A], [1, 'accepted', 11, B], [2, 'disconnected', 10, A], [5, 'disconnected', 11, B], [6, 'accepted', 13, A], [12, 'received-disconnect', 12, C], [14, 'received-disconnect', 12, C], [15, 'received-disconnect', 12, C]],
      [`login ${A}`, `login ${B}`, `logout ${A}`, `logout ${B}`, `login ${A}`, `close ${B}`]],
  ])('%s', (_name, steps, expected) => {
    expect(run(steps, 10_000)).toEqual(expected);
  });
});

describe('what one line means', () => {
  it.each<[string, SshAuth[], SshOutcome | undefined]>([
    ['a login, with its user and pid', [{ ...event(3, 'accepted', 10, A), user: 'alice' }],
      { src: A, failed: false, decisions: [{ type: 'login', time: 3000, src: A, user: 'alice', pid: 10 }] }],
    ['a login whose line names no user', [{ ...event(3, 'accepted', 10, A), user: undefined }],
      { src: A, failed: false, decisions: [{ type: 'login', time: 3000, src: A, user: '', pid: 10 }] }],
    // pam_unix lines carry no address: the pid finds it, or the line means nothing
    ['a session opened on a logged-in pid', [event(0, 'accepted', 10, A), event(1, 'session-opened', 10)],
      { src: A, failed: false, decisions: [] }],
    ['a session opened on an unknown pid', [event(1, 'session-opened', 10)], undefined],
    ['a session closed on an unknown pid', [event(1, 'session-closed', 10)], undefined],
    // a failed connection is remembered for the failure lines that repeat its attempts
    ['a session closed on the pid of a failed login', [event(0, 'failed', 10, A), event(1, 'session-closed', 10)], { src: A, failed: false, decisions: [] }],
    ['a session closed on the pid of a failed login that ended', [event(0, 'failed', 10, A), event(1, 'disconnected', 10, A), event(2, 'session-closed', 10)], undefined],
    // a failure line that names no address counts for the address its pid logged in from
    ['a failure naming no address on a logged-in pid', [event(0, 'accepted', 10, A), event(1, 'too-many-failures', 10)],
      { src: A, failed: true, decisions: [] }],
    // a line that repeats a counted attempt, or counts nothing, still says whose it is
    ['the "Failed ... invalid user" line of an attempt its "Invalid user" line counted', [event(0, 'invalid-user', 5, A), event(0.2, 'failed', 5, A, true)],
      { src: A, failed: false, decisions: [] }],
    ['a noise line', [event(0, 'received-disconnect', 5, A)], { src: A, failed: false, decisions: [] }],
    // a line without a pid is tied to no connection: only a failure that names its address counts
    ['a failure without a pid', [{ ...event(0, 'failed', 5, A), pid: undefined }], { src: A, failed: true, decisions: [] }],
    ['a failure without a pid or an address', [{ ...event(0, 'too-many-failures', 5), pid: undefined }], undefined],
    ['a login without a pid', [{ ...event(0, 'accepted', 5, A), pid: undefined }], undefined],
  ])('%s', (_name, events, expected) => {
    const sessions = new SshSessions(0);
    const outcomes = events.map((e) => sessions.handle(e));
    expect(outcomes.at(-1)).toEqual(expected);
  });
});

// A user who logs in again within the grace, session after session: each logout's place in
// the queue of grace ends is passed over, and logouts are read only while one waits.
describe('the queue of grace ends', () => {
  it('holds nothing once no logout waits, however many were cancelled by a login', () => {
    const sessions = new SshSessions(10_000);
    for (let i = 0; i < 1000; i++) {
      sessions.handle(event(2 * i, 'accepted', 10 + i, A));
      sessions.handle(event(2 * i + 1, 'disconnected', 10 + i, A));
    }
    sessions.handle(event(2000, 'accepted', 5000, A));
    const queued = (sessions as unknown as { graceEnds: { size: number } }).graceEnds.size;
    expect([sessions.logoutsPending, queued]).toEqual([false, 0]);
  });
});

describe('logoutsPending', () => {
  it('says whether an address waits for its logout_grace to end', () => {
    const sessions = new SshSessions(3000);
    const pending = [sessions.logoutsPending];
    sessions.handle(event(0, 'accepted', 10, A));
    pending.push(sessions.logoutsPending);
    sessions.handle(event(5, 'disconnected', 10, A));
    pending.push(sessions.logoutsPending);
    sessions.dueLogouts(8000);
    pending.push(sessions.logoutsPending);
    expect(pending).toEqual([false, false, true, false]);
  });
});

const other = (pid: number): string => `198.51.${pid >> 8 & 255}.${pid & 255}`;

describe('a pid seen again', () => {
  const accepted = (at: number, pid: number, src: string, port: number): SshAuth => ({ ...event(at, 'accepted', pid, src), port });

  // Its closing lines were lost: a closing line of the pid's new connection ends the old session too.
  it('ends the stale session when a closing line of the pid names another address', () => {
    const sessions = new SshSessions(0);
    sessions.handle(accepted(0, 10, A, 5000));
    expect(sessions.handle({ ...event(50, 'disconnected', 10, B), port: 6000 })?.decisions).toEqual([{ type: 'logout', time: 50_000, src: A, pid: 10, closeAt: 50_000 }]);
    expect(sessions.loggedIn).toBe(0);
  });

  it('logged in again from the same address is one session, ended by its next logout', () => {
    const sessions = new SshSessions(0);
    sessions.handle(accepted(0, 10, A, 5000));
    sessions.handle(accepted(1, 10, A, 5001));
    expect(sessions.saved()).toEqual([{ pid: 10, src: A, port: 5001, since: 1000 }]);
    expect(sessions.handle(event(2, 'session-closed', 10))?.decisions).toEqual([{ type: 'logout', time: 2000, src: A, pid: 10, closeAt: 2000 }]);
  });

  it('keeps one session of an address and client port that another pid logs in with', () => {
    const sessions = new SshSessions(30_000);
    sessions.handle(accepted(0, 10, A, 5000));
    sessions.handle(accepted(1, 11, A, 5000));
    expect(sessions.saved()).toEqual([{ pid: 11, src: A, port: 5000, since: 1000 }]);
    // The grace is counted from the end.
    expect(sessions.handle(event(2, 'session-closed', 11))?.decisions).toEqual([{ type: 'logout', time: 2000, src: A, pid: 11, closeAt: 32_000 }]);
  });
});

describe('the cap on tracked connections', () => {
  it('forgets the oldest connection without taking it for a logout', () => {
    const sessions = new SshSessions(0);
    sessions.handle(event(0, 'accepted', 1, A));
    for (let pid = 2; pid <= MAX_CONNECTIONS + 1; pid++) sessions.handle(event(1, 'accepted', pid, other(pid)));
    sessions.handle(event(2, 'disconnected', 1, A));
    expect(sessions.dueLogouts(10_000)).toEqual([]);
    // A's only connection was forgotten: A is no longer an address with a session.
    expect(sessions.loggedIn).toBe(MAX_CONNECTIONS);
  });

  it('keeps the other sessions of an address whose oldest connection it forgets', () => {
    const sessions = new SshSessions(0);
    for (const pid of [1, 2, 3]) sessions.handle(event(0, 'accepted', pid, A));
    for (let pid = 4; pid <= MAX_CONNECTIONS + 1; pid++) sessions.handle(event(1, 'accepted', pid, other(pid)));
    // pid 1 is forgotten; A is still logged in twice: the first of those two ending is no logout.
    expect(sessions.handle(event(2, 'disconnected', 2, A))?.decisions).toEqual([]);
    expect(sessions.handle(event(2, 'disconnected', 3, A))?.decisions).toEqual([{ type: 'logout', time: 2000, src: A, pid: 3, closeAt: 2000 }]);
  });

  it('forgets only one past the cap', () => {
    const sessions = new SshSessions(0);
    sessions.handle(event(0, 'accepted', 1, B));
    sessions.handle(event(0, 'accepted', 2, A));
    for (let pid = 3; pid <= MAX_CONNECTIONS + 1; pid++) sessions.handle(event(1, 'accepted', pid, other(pid)));
    // pid 1 is forgotten: its pam line now names nobody; A's pid 2 is kept
    expect(sessions.handle(event(2, 'session-closed', 1))).toBeUndefined();
    expect(sessions.handle(event(2, 'disconnected', 2, A))?.decisions).toEqual([{ type: 'logout', time: 2000, src: A, pid: 2, closeAt: 2000 }]);
  });
});

// With privilege separation, sshd's monitor writes the Accepted line and pam_unix's session
// lines, and the post-auth child, another pid, writes "Received disconnect" and "Disconnected
// from user U ADDR port N". Without PAM (UsePAM no) no "session closed" line comes at all.
// [seconds, kind, pid, src, client port] → what each line meant, as in run().
type PortStep = [number, SshAuthKind, number, string?, number?];

function runPorts(steps: PortStep[], logoutGrace = 0): string[] {
  const sessions = new SshSessions(logoutGrace);
  const out: string[] = [];
  for (const [at, kind, pid, src, port] of steps) {
    const outcome = sessions.handle({ ...event(at, kind, pid, src), port });
    for (const decision of outcome?.decisions ?? []) out.push(`${decision.type} ${decision.src} ${decision.time / 1000}`);
    for (const due of sessions.dueLogouts(at * 1000)) out.push(`close ${due.src} ${at}`);
  }
  return out;
}

describe('a logout written by another pid than the login', () => {
  it.each<[string, PortStep[], string[]]>([
    ['without PAM, the child\'s "Disconnected from user" ends the session by its client port',
      [[0, 'accepted', 10, A, 5000], [60, 'received-disconnect', 11, A, 5000], [60, 'disconnected', 11, A, 5000]],
      [`login ${A} 0`, `logout ${A} 60`, `close ${A} 60`]],
    ['with PAM, the child\'s line ends it and the monitor\'s "session closed" after it ends nothing more',
      [[0, 'accepted', 10, A, 5000], [0, 'session-opened', 10], [60, 'received-disconnect', 11, A, 5000], [60, 'disconnected', 11, A, 5000], [61, 'session-closed', 10]],
      [`login ${A} 0`, `logout ${A} 60`, `close ${A} 60`]],
    ['the monitor\'s "session closed" first: the child\'s line after it ends nothing more',
      [[0, 'accepted', 10, A, 5000], [60, 'session-closed', 10], [60, 'disconnected', 11, A, 5000]],
      [`login ${A} 0`, `logout ${A} 60`, `close ${A} 60`]],
    ['"Connection closed by user" (the client went away) ends it too',
      [[0, 'accepted', 10, A, 5000], [60, 'disconnected', 11, A, 5000]],
      [`login ${A} 0`, `logout ${A} 60`, `close ${A} 60`]],
    // one address, two sessions: each ends by its own port, and once
    ['of two sessions of one address, the first ending keeps the address logged in',
      [[0, 'accepted', 10, A, 5000], [1, 'accepted', 20, A, 5001], [60, 'disconnected', 11, A, 5000], [61, 'session-closed', 10], [62, 'session-closed', 10],
        [90, 'disconnected', 21, A, 5001]],
      [`login ${A} 0`, `login ${A} 1`, `logout ${A} 90`, `close ${A} 90`]],
    ['the second ending first keeps the address logged in too',
      [[0, 'accepted', 10, A, 5000], [1, 'accepted', 20, A, 5001], [60, 'disconnected', 21, A, 5001], [61, 'session-closed', 20], [90, 'disconnected', 11, A, 5000]],
      [`login ${A} 0`, `login ${A} 1`, `logout ${A} 90`, `close ${A} 90`]],
    // never by address alone
    ['a port no session of the address logged in from ends nothing',
      [[0, 'accepted', 10, A, 5000], [60, 'disconnected', 11, A, 5001], [61, 'disconnected', 12, B, 5000]],
      [`login ${A} 0`]],
    ['a line of an unknown pid without a port ends nothing',
      [[0, 'accepted', 10, A, 5000], [60, 'disconnected', 11, A]],
      [`login ${A} 0`]],
    ['a login whose line named no port is ended only through its pid',
      [[0, 'accepted', 10, A], [60, 'disconnected', 11, A, 5000], [61, 'disconnected', 10, A, 5000]],
      [`login ${A} 0`, `logout ${A} 61`, `close ${A} 61`]],
    // the same client port from the same address again: the first connection is over
    // (its lines were lost), the second is one session, not two
    ['a login on the client port of a session still known replaces that session',
      [[0, 'accepted', 10, A, 5000], [30, 'accepted', 20, A, 5000], [60, 'disconnected', 21, A, 5000], [61, 'session-closed', 10]],
      [`login ${A} 0`, `login ${A} 30`, `logout ${A} 60`, `close ${A} 60`]],
    ['a pid that logs in again from another client port no longer holds the first',
      [[0, 'accepted', 10, A, 5000], [30, 'accepted', 10, A, 5001], [60, 'disconnected', 11, A, 5000], [61, 'disconnected', 11, A, 5001]],
      [`login ${A} 0`, `login ${A} 30`, `logout ${A} 61`, `close ${A} 61`]],
  ])('%s', (_name, steps, expected) => {
    expect(runPorts(steps)).toEqual(expected);
  });

  it('waits logout_grace from the child\'s line', () => {
    expect(runPorts([[0, 'accepted', 10, A, 5000], [60, 'disconnected', 11, A, 5000], [62, 'session-opened', 99], [63, 'session-opened', 99]], 3000))
      .toEqual([`login ${A} 0`, `logout ${A} 60`, `close ${A} 63`]);
  });

  it('names the login\'s pid in its logout', () => {
    const sessions = new SshSessions(0);
    sessions.handle({ ...event(0, 'accepted', 10, A), port: 5000 });
    expect(sessions.handle({ ...event(60, 'disconnected', 11, A), port: 5000 }))
      .toEqual({ src: A, failed: false, decisions: [{ type: 'logout', time: 60_000, src: A, pid: 10, closeAt: 60_000 }] });
  });

  it('forgets a connection past the cap by its port too', () => {
    const sessions = new SshSessions(0);
    sessions.handle({ ...event(0, 'accepted', 1, A), port: 5000 });
    for (let pid = 2; pid <= MAX_CONNECTIONS + 1; pid++) sessions.handle({ ...event(1, 'accepted', pid, other(pid)), port: 5000 });
    expect(sessions.handle({ ...event(2, 'disconnected', 99_999, A), port: 5000 })?.decisions).toEqual([]);
    expect(sessions.handle({ ...event(2, 'disconnected', 99_998, other(2)), port: 5000 })?.decisions).toEqual([{ type: 'logout', time: 2000, src: other(2), pid: 2, closeAt: 2000 }]);
  });
});

// The state file keeps the logged-in connections: a daemon restarted between a login and its
// logout still ends the session, by the login's pid or by its client port.
describe('sessions saved and restored', () => {
  it('lists the logged-in connections, oldest first, and nothing else', () => {
    const sessions = new SshSessions(0);
    sessions.handle({ ...event(0, 'accepted', 10, A), port: 5000 });
    sessions.handle(event(1, 'accepted', 11, B));
    sessions.handle(event(2, 'failed', 12, B));
    sessions.handle({ ...event(3, 'accepted', 13, A), port: 5001 });
    sessions.handle({ ...event(4, 'disconnected', 14, A), port: 5001 });
    expect(sessions.saved()).toEqual([{ pid: 10, src: A, port: 5000, since: 0 }, { pid: 11, src: B, since: 1000 }]);
  });

  it.each<[string, PortStep]>([
    ['the login\'s pid (pam_unix)', [60, 'session-closed', 10]],
    ['the client port (the post-auth child)', [60, 'disconnected', 11, A, 5000]],
  ])('ends a restored session by %s', (_name, [at, kind, pid, src, port]) => {
    const restored = new SshSessions(0);
    restored.restore([{ pid: 10, src: A, port: 5000, since: 0 }, { pid: 20, src: B, since: 0 }]);
    expect(restored.loggedIn).toBe(2);
    expect(restored.handle({ ...event(at, kind, pid, src), port })?.decisions).toEqual([{ type: 'logout', time: 60_000, src: A, pid: 10, closeAt: 60_000 }]);
    expect(restored.saved()).toEqual([{ pid: 20, src: B, since: 0 }]);
  });

  it('restores no more than MAX_CONNECTIONS, the newest', () => {
    const restored = new SshSessions(0);
    restored.restore(Array.from({ length: MAX_CONNECTIONS + 1 }, (_, i) => ({ pid: i + 1, src: other(i + 1), since: i })));
    expect(restored.saved().length).toBe(MAX_CONNECTIONS);
    expect(restored.saved()[0]).toEqual({ pid: 2, src: other(2), since: 1 });
  });

  it('saves no more than MAX_CONNECTIONS logouts waiting for logout_grace, the latest', () => {
    const sessions = new SshSessions(60_000);
    for (let pid = 1; pid <= MAX_CONNECTIONS + 1; pid++) {
      sessions.handle(event(1, 'accepted', pid, other(pid)));
      sessions.handle(event(2, 'session-closed', pid));
    }
    const saved = sessions.savedLogouts();
    expect(saved.length).toBe(MAX_CONNECTIONS);
    expect([saved[0], saved.at(-1)]).toEqual([{ src: other(2), ended: 2000 }, { src: other(MAX_CONNECTIONS + 1), ended: 2000 }]);
  });

  it('counts a restored logout\'s grace from its saved end', () => {
    const restored = new SshSessions(10_000);
    restored.restoreLogouts([{ src: A, ended: 5000 }, { src: B, ended: 8000 }]);
    expect(restored.savedLogouts()).toEqual([{ src: A, ended: 5000 }, { src: B, ended: 8000 }]);
    expect(restored.dueLogouts(14_999)).toEqual([]);
    expect(restored.dueLogouts(15_000)).toEqual([{ src: A, ended: 5000 }]);
  });
});
