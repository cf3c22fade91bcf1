import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { Lab, waitFor } from './helpers/lab.js';

// A real sshd in the server namespace logs through a real rsyslogd to a real auth.log;
// knockwatch follows it next to kern.log and changes the real nftables ruleset.
const missing = missingPrerequisites(['ip', 'nft', 'rsyslogd', 'sshd', 'ssh', 'ssh-keygen', 'unshare', 'nc'], true);
explainSkip('end-to-end sshd tests', missing);

describe.skipIf(missing.length > 0)('knockwatch and a real sshd', () => {
  const lab = new Lab({ name: 'kwe2e-ssh', subnet: 203, sshd: true });

  beforeAll(async () => {
    await lab.up();
    const config = lab.writeConfig(`[options]
firewall = nftables
maxretry = 3
findtime = 10m
bantime = 10m
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open = 22/tcp
open_for = 120
close_on_logout = yes
[shortSSH]
sequence = 6000,6001
seq_timeout = 5
open = 22/tcp
open_for = 5
`);
    await lab.startDaemon(config);
  });

  afterAll(() => lab.down());

  // How often the client was granted the openSSH door so far.
  function openSshGrants(): number {
    return lab.daemonLog.split('\n').filter((line) => line.includes(`Opened 22/tcp for ${lab.clientAddress} (door openSSH,`)).length;
  }

  it('closes the grant on the logout', async () => {
    expect(lab.canConnect(lab.client)).toBe(false);
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await waitFor('the grant', () => lab.daemonLog.includes(`Opened 22/tcp for ${lab.clientAddress}`));
    expect(lab.sshLogin(lab.client).status).toBe(0);
    // The grant lasts 120 s, so within the bound only the logout can close it; the close is
    // announced once the firewall has dropped it. The bound leaves a slow machine room.
    await waitFor('the grant to close on logout', () => lab.daemonLog.includes(`Closed openSSH for ${lab.clientAddress} (logout)`), 15_000);
    expect(lab.daemonLog).toContain(`SSH login of "root" from ${lab.clientAddress}`);
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('never cuts an established session when its grant ends', async () => {
    await lab.knock(lab.client, ['6000', '6001']);
    await waitFor('the short grant', () => lab.daemonLog.includes(`Opened 22/tcp for ${lab.clientAddress} (door shortSSH, 5s)`));
    // The session waits, inside itself, until the grant has left knockwatch's table (bounded),
    // and only then answers: it outlives its grant whatever the machine's speed.
    const session = lab.sshLogin(lab.client,
      `timeout 20 sh -c 'while nft list table inet knockwatch | grep -qF "${lab.clientAddress} "; do sleep 0.2; done' && echo still here`);
    // (the daemon's output is read once the blocking ssh has returned)
    await waitFor('the expiry in the daemon log', () => lab.daemonLog.includes(`Closed shortSSH for ${lab.clientAddress} (expired)`), 15_000);
    expect(session).toEqual({ status: 0, stdout: 'still here\n' });
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('revokes the grant of a knocked address that fails its password maxretry times', async () => {
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await waitFor('the second grant', () => openSshGrants() === 2);
    expect(lab.canConnect(lab.client)).toBe(true);
    for (let attempt = 0; attempt < 3; attempt++) expect(lab.sshWrongPassword(lab.client)).not.toBe(0);
    await waitFor('the ban', () => lab.daemonLog.includes(`Banned ${lab.clientAddress}`), 15_000);
    // The grant's close is its own firewall change, logged once it is in force, after the ban's.
    await waitFor('the revoked grant\'s close', () => lab.daemonLog.includes(`Closed openSSH for ${lab.clientAddress} (revoked)`), 5000);
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('refuses the banned address even when it knocks correctly', async () => {
    expect(lab.inServer(['nft', 'list', 'set', 'inet', 'knockwatch', 'banned4'])).toContain(lab.clientAddress);
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    // The admin's knock comes after it in the logs: once that is decided, so was the client's.
    await lab.knock(lab.admin, ['7000', '8000', '9000/udp']);
    await waitFor('the marker knock', () => lab.daemonLog.includes(`Opened 22/tcp for ${lab.adminAddress}`));
    expect(openSshGrants()).toBe(2);
    expect(lab.canConnect(lab.client)).toBe(false);
  });
});
