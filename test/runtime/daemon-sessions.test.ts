import { describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/runtime/daemon.js';
import { createDaemonLab, type DaemonLab } from '../helpers/daemon.js';
import { kernLine, T0 } from '../helpers/reload-race.js';

const CONFIG = '[options]\nfirewall = dry-run\nlogout_grace = 5s\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 1h\nclose_on_logout = yes\n';
const A = '203.0.113.7';

const sshLine = (at: number, pid: number, message: string): string => `${new Date(at).toISOString().replace('Z', '000+00:00')} gate sshd[${pid}]: ${message}\n`;

// A session logged in before a restart: the daemon started from the saved state still knows
// it, and its logout closes the close_on_logout grant (after logout_grace).
describe('daemon, an sshd session and a restart', () => {
  it.each([
    ['pam_unix\'s "session closed" of the login\'s pid', sshLine(T0 + 20_000, 501, 'pam_unix(sshd:session): session closed for user alice')],
    ['the post-auth child\'s "Disconnected from user" (UsePAM no)', sshLine(T0 + 20_000, 502, `Disconnected from user alice ${A} port 50000`)],
  ])('closes the grant on a logout after the restart: %s', async (_name, logout) => {
    const lab = createDaemonLab(T0, CONFIG, true);
    try {
      const first = lab.daemon();
      await first.start();
      await lab.feed(first, kernLine(T0 + 1000, A, '7000', 41000) + kernLine(T0 + 1500, A, '8000', 41001));
      await lab.feed(first, sshLine(T0 + 3000, 501, `Accepted publickey for alice from ${A} port 50000 ssh2`), lab.authLog);
      // A crash right after the login was read: the state written at that tick must hold it.
      first.halt();

      lab.setTime(T0 + 10_000);
      const second = lab.daemon();
      await second.start();
      await lab.feed(second, logout, lab.authLog);
      expect(second.grants().map((grant) => grant.src)).toEqual([A]);
      lab.setTime(T0 + 25_000);
      second.poll();
      await second.settle();
      expect(second.grants()).toEqual([]);
      expect(lab.record().slice(-1)).toEqual([`-${A} open`]);
      expect(lab.messages.filter((message) => message.includes('(logout)'))).toEqual([`notice Closed open for ${A} (logout).`]);
    } finally {
      lab.cleanUp();
    }
  });
});

// A logout still waiting out logout_grace when the daemon crashed: the restarted daemon counts
// the grace from the saved end of the session, and a login of the address cancels it as ever.
describe('daemon, a logout in its logout_grace and a restart', () => {
  const B = '203.0.113.8';

  // A and B knock, log in and log out at T0 + 4 s; the daemon crashes in the grace and is
  // started again from its state file at `restart`.
  async function restartInGrace(restart: number, check: (lab: DaemonLab, second: Daemon) => Promise<void>): Promise<void> {
    const lab = createDaemonLab(T0, CONFIG, true);
    try {
      const first = lab.daemon();
      await first.start();
      await lab.feed(first, kernLine(T0 + 1000, A, '7000', 41000) + kernLine(T0 + 1500, A, '8000', 41001) + kernLine(T0 + 1000, B, '7000', 41000) + kernLine(T0 + 1500, B, '8000', 41001));
      await lab.feed(first, sshLine(T0 + 3000, 501, `Accepted publickey for alice from ${A} port 50000 ssh2`) + sshLine(T0 + 3000, 502, `Accepted publickey for bob from ${B} port 50000 ssh2`), lab.authLog);
      lab.setTime(T0 + 4000);
      await lab.feed(first, sshLine(T0 + 4000, 501, 'pam_unix(sshd:session): session closed for user alice') + sshLine(T0 + 4000, 502, 'pam_unix(sshd:session): session closed for user bob'), lab.authLog);
      expect(first.grants().map((grant) => grant.src)).toEqual([A, B]);
      first.halt();
      lab.setTime(restart);
      const second = lab.daemon();
      await second.start();
      await check(lab, second);
    } finally {
      lab.cleanUp();
    }
  }

  async function tickAt(lab: DaemonLab, daemon: Daemon, time: number): Promise<void> {
    lab.setTime(time);
    daemon.poll();
    await daemon.settle();
  }

  const closedByLogout = (lab: DaemonLab): string[] => lab.messages.filter((message) => message.includes('(logout)'));

  it('closes the grant once the grace counted from the saved logout has run out', async () => {
    await restartInGrace(T0 + 6000, async (lab, second) => {
      await tickAt(lab, second, T0 + 6000);
      expect(second.grants().map((grant) => grant.src)).toEqual([A, B]);
      await tickAt(lab, second, T0 + 9000);
      expect(second.grants()).toEqual([]);
      expect(lab.record().slice(-2)).toEqual([`-${A} open`, `-${B} open`]);
      expect(closedByLogout(lab)).toEqual([`notice Closed open for ${A} (logout).`, `notice Closed open for ${B} (logout).`]);
    });
  });

  it('closes the grant at the first tick when the grace ran out while the daemon was down', async () => {
    await restartInGrace(T0 + 60_000, async (lab, second) => {
      await tickAt(lab, second, T0 + 60_000);
      expect(second.grants()).toEqual([]);
      expect(closedByLogout(lab)).toEqual([`notice Closed open for ${A} (logout).`, `notice Closed open for ${B} (logout).`]);
    });
  });

  it('keeps the grant of an address that logs in again after the restart, before the grace ends', async () => {
    await restartInGrace(T0 + 6000, async (lab, second) => {
      await lab.feed(second, sshLine(T0 + 6000, 601, `Accepted publickey for alice from ${A} port 50001 ssh2`), lab.authLog);
      await tickAt(lab, second, T0 + 60_000);
      expect(second.grants().map((grant) => grant.src)).toEqual([A]);
      expect(closedByLogout(lab)).toEqual([`notice Closed open for ${B} (logout).`]);
    });
  });
});
