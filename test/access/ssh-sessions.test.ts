import { describe, expect, it } from 'vitest';
import { MAX_CONNECTIONS, SshSessions } from '../../src/access/ssh-sessions.js';
import type { SshAuth, SshAuthKind } from '../../src/filters/events.js';

const A = '203.0.113.7';

type Step = [number, SshAuthKind, number, string?, boolean?];

function event(at: number, kind: SshAuthKind, pid: number, src?: string, invalidUser?: boolean): SshAuth {
  return { type: 'ssh', time: at * 1000, kind, pid, src, user: 'u', method: undefined, invalidUser: invalidUser ?? kind === 'invalid-user' };
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
    for (const due of sessions.dueLogouts(at * 1000)) out.push(`close ${due}`);
  }
  return out;
}

describe('sessions', () => {
  it.each<[string, Step[], string[]]>([
    ['a logout ends the only session', [[0, 'accepted', 10, A], [1, 'session-opened', 10], [5, 'disconnected', 10, A], [5, 'session-closed', 10]],
      [`login ${A}`, `logout ${A}`, `close ${A}`]],
    ['pam_unix session closed (no address) ends it through the pid', [[0, 'accepted', 10, A], [5, 'session-closed', 10]],
      [`login ${A}`, `logout ${A}`, `close ${A}`]],
    ['only the last of several sessions counts', [[0, 'accepted', 10, A], [1, 'accepted', 11, A], [5, 'disconnected', 10, A], [9, 'disconnected', 11, A]],
      [`login ${A}`, `login ${A}`, `logout ${A}`, `close ${A}`]],
    ['a connection that never logged in is no logout', [[0, 'failed', 12, A], [1, 'disconnected', 12, A]],
      [`failed ${A}`]],
    ['a disconnect for an unknown pid is ignored', [[0, 'disconnected', 99, A]], []],
    // one failed attempt, however many lines sshd writes for it
    ['"Invalid user" and its first "Failed ... invalid user" are one attempt', [[0, 'invalid-user', 5, A], [0.2, 'failed', 5, A, true], [1, 'failed', 5, A, true]],
      [`failed ${A}`, `failed ${A}`]],
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

describe('the cap on tracked connections', () => {
  it('forgets the oldest connection without taking it for a logout', () => {
    const sessions = new SshSessions(0);
    sessions.handle(event(0, 'accepted', 1, A));
    for (let pid = 2; pid <= MAX_CONNECTIONS + 1; pid++) sessions.handle(event(1, 'failed', pid, `198.51.${pid >> 8 & 255}.${pid & 255}`));
    sessions.handle(event(2, 'disconnected', 1, A));
    expect(sessions.dueLogouts(10_000)).toEqual([]);
  });
});
