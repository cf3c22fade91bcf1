import { describe, expect, it } from 'vitest';
import { AuthTracker, MAX_CONNECTIONS, type AuthOptions } from '../../src/engine/auth-tracker.js';
import type { SshAuth, SshAuthKind } from '../../src/filters/events.js';
import { parseNetwork, type Network } from '../../src/net/address.js';

const OPTIONS: AuthOptions = {
  maxRetry: 3, findTime: 60_000, banTime: 100_000, banTimeMax: 350_000, logoutGrace: 0,
  whitelist: [parseNetwork('192.0.2.0/24') as Network],
};
const A = '203.0.113.7';

type Step = [number, SshAuthKind, number, string?, boolean?];

// [seconds, kind, pid, src, invalid user?] → the decisions, as "type src" strings.
function run(steps: Step[], options: Partial<AuthOptions> = {}): string[] {
  const tracker = new AuthTracker({ ...OPTIONS, ...options });
  const out: string[] = [];
  for (const [at, kind, pid, src, invalidUser] of steps) {
    const event: SshAuth = { type: 'ssh', time: at * 1000, kind, pid, src, user: 'u', method: undefined, invalidUser: invalidUser ?? kind === 'invalid-user' };
    for (const decision of tracker.handle(event)) out.push(decision.type === 'banned' ? `banned ${decision.src} ${(decision.until - decision.time) / 1000}s` : `${decision.type} ${decision.src}`);
    for (const src of tracker.dueLogouts(at * 1000)) out.push(`close ${src}`);
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
      [`failure ${A}`]],
    ['a disconnect for an unknown pid is ignored', [[0, 'disconnected', 99, A]], []],
  ])('%s', (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });

  it('waits logout_grace, and a new login meanwhile keeps the door', () => {
    expect(run([[0, 'accepted', 10, A], [5, 'disconnected', 10, A], [6, 'accepted', 11, A], [20, 'session-opened', 11]], { logoutGrace: 3000 }))
      .toEqual([`login ${A}`, `logout ${A}`, `login ${A}`]);
    // due at 8 s: not yet at 7 s, done at 8.5 s
    expect(run([[0, 'accepted', 10, A], [5, 'disconnected', 10, A], [7, 'session-opened', 99]], { logoutGrace: 3000 }))
      .toEqual([`login ${A}`, `logout ${A}`]);
    expect(run([[0, 'accepted', 10, A], [5, 'disconnected', 10, A], [7, 'session-opened', 99], [8.5, 'session-opened', 99]], { logoutGrace: 3000 }))
      .toEqual([`login ${A}`, `logout ${A}`, `close ${A}`]);
  });
});

describe('failed logins', () => {
  it.each<[string, Step[], string[]]>([
    ['maxretry failures within findtime ban', [[0, 'failed', 1, A], [1, 'failed', 1, A], [2, 'failed', 2, A]],
      [`failure ${A}`, `failure ${A}`, `failure ${A}`, `banned ${A} 100s`]],
    ['failures spread beyond findtime do not', [[0, 'failed', 1, A], [50, 'failed', 2, A], [100, 'failed', 3, A], [150, 'failed', 4, A]],
      [`failure ${A}`, `failure ${A}`, `failure ${A}`, `failure ${A}`]],
    ['"Invalid user" and its first "Failed ... invalid user" are one attempt', [[0, 'invalid-user', 5, A], [0.2, 'failed', 5, A, true], [1, 'failed', 5, A, true], [2, 'failed', 5, A, true]],
      [`failure ${A}`, `failure ${A}`, `failure ${A}`, `banned ${A} 100s`]],
    ['a whitelisted address is never banned', [[0, 'failed', 1, '192.0.2.10'], [1, 'failed', 1, '192.0.2.10'], [2, 'failed', 1, '192.0.2.10'], [3, 'failed', 1, '192.0.2.10']], []],
    ['a repeat offender is banned twice as long, up to bantime_max', [
      [0, 'failed', 1, A], [1, 'failed', 1, A], [2, 'failed', 1, A],
      [200, 'failed', 2, A], [201, 'failed', 2, A], [202, 'failed', 2, A],
      [500, 'failed', 3, A], [501, 'failed', 3, A], [502, 'failed', 3, A],
    ], [
      `failure ${A}`, `failure ${A}`, `failure ${A}`, `banned ${A} 100s`,
      `failure ${A}`, `failure ${A}`, `failure ${A}`, `banned ${A} 200s`,
      `failure ${A}`, `failure ${A}`, `failure ${A}`, `banned ${A} 350s`,
    ]],
    ['failures while banned are not counted again', [[0, 'failed', 1, A], [1, 'failed', 1, A], [2, 'failed', 1, A], [3, 'failed', 1, A]],
      [`failure ${A}`, `failure ${A}`, `failure ${A}`, `banned ${A} 100s`]],
  ])('%s', (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });

  it('lifts a ban when it runs out', () => {
    const tracker = new AuthTracker(OPTIONS);
    for (const at of [0, 1, 2]) tracker.handle({ type: 'ssh', time: at * 1000, kind: 'failed', pid: 1, src: A, user: 'u', method: 'password', invalidUser: false });
    expect(tracker.bannedUntil(A, 50_000)).toBe(102_000);
    expect(tracker.cleanup(101_000)).toEqual([]);
    expect(tracker.cleanup(102_000)).toEqual([{ type: 'unbanned', time: 102_000, src: A }]);
    expect(tracker.bannedUntil(A, 102_000)).toBeUndefined();
  });
});

describe('the cap on tracked connections', () => {
  it('forgets the oldest connection without taking it for a logout', () => {
    const tracker = new AuthTracker(OPTIONS);
    const event = (time: number, kind: SshAuthKind, pid: number, src: string): SshAuth => ({ type: 'ssh', time, kind, pid, src, user: 'u', method: undefined, invalidUser: false });
    tracker.handle(event(0, 'accepted', 1, A));
    for (let pid = 2; pid <= MAX_CONNECTIONS + 1; pid++) tracker.handle(event(1, 'failed', pid, `198.51.${pid >> 8 & 255}.${pid & 255}`));
    expect(tracker.dueLogouts(10_000)).toEqual([]);
  });
});
