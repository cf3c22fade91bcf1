import { describe, expect, it } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { Lab, useLab, waitFor } from './helpers/lab.js';

// `knockwatch try` as an admin would run it over SSH: a real sshd and rsyslogd in the server
// namespace, real nftables, a client namespace that knocks and logs in.
const missing = missingPrerequisites(['ip', 'nft', 'rsyslogd', 'sshd', 'ssh', 'ssh-keygen', 'unshare', 'nc'], true);
explainSkip('end-to-end try tests', missing);

describe.skipIf(missing.length > 0)('knockwatch try, for real', () => {
  const lab = new Lab({ name: 'kwe2e-try', subnet: 204, sshd: true });
  const config = lab.configPath;
  const ruleset = (): string => lab.inServer(['nft', 'list', 'ruleset']);
  useLab(lab, () => `[options]
firewall = nftables
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open = 22/tcp
open_for = 60
`, false);

  it('keeps the ruleset and runs on when a new SSH session logs in through the door', async () => {
    const session = lab.startTry(config, ['--timeout', '60']);
    await waitFor('the instructions', () => session.output().includes('knockwatch is on'), 15_000);
    expect(lab.canConnect(lab.client)).toBe(false);
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await waitFor('the grant', () => session.output().includes(`Opened 22/tcp for ${lab.clientAddress}`));
    expect(lab.sshLogin(lab.client).status).toBe(0);
    await waitFor('the confirmation', () => session.output().includes(`Confirmed by the SSH login of "root" from ${lab.clientAddress} (knocked)`));
    session.child.kill('SIGTERM');
    expect(await session.exited).toBe(0);
    // Kept: the gate is still there after try ended.
    expect(ruleset()).toContain('comment "knockwatch:gate"');
    lab.inServer(['nft', 'delete', 'table', 'inet', 'knockwatch']);
  });

  it.each([
    // Long enough that the gate is surely still up when the test looks at it on a slow machine.
    { how: 'no new session before the timeout', act: () => undefined, extra: ['--timeout', '10'], says: 'Not confirmed (no new SSH login within 10 s)' },
    { how: 'Ctrl-C', act: (child: { kill: (signal: NodeJS.Signals) => boolean }) => child.kill('SIGINT'), extra: [], says: 'Not confirmed (SIGINT)' },
    { how: 'the terminal going away', act: (child: { stdin: { end: () => void } | null }) => child.stdin?.end(), extra: [], says: 'Not confirmed (the terminal went away)' },
  ])('removes everything it installed on $how', async ({ act, extra, says }) => {
    const before = ruleset();
    expect(lab.canConnect(lab.client)).toBe(true);
    const session = lab.startTry(config, extra);
    try {
      await waitFor('the instructions', () => session.output().includes('knockwatch is on'), 15_000);
      expect(lab.canConnect(lab.client)).toBe(false);
      act(session.child as never);
      expect(await session.exited).toBe(1);
      expect(session.output()).toContain(says);
      expect(ruleset()).toBe(before);
      expect(lab.canConnect(lab.client)).toBe(true);
    } finally {
      session.child.kill('SIGKILL');
    }
  });
});
