import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { JOURNALD, Lab, useLab, waitFor } from './helpers/lab.js';

// A fresh Debian 12: no rsyslog, so no kern.log and no auth.log. The daemon starts with no
// --log, --auth-log or kern_log: knocks come from /dev/kmsg, sshd's lines from a real
// systemd-journald (the lab's own, confined to the lab's directories; journal_directory
// points the daemon's journalctl at it), where journald itself sets _COMM, _UID and
// _TRANSPORT from the sender's credentials.
const missing = missingPrerequisites(['ip', 'nft', 'iptables', 'sshd', 'ssh', 'ssh-keygen', 'unshare', 'setpriv', 'nc', 'logger', 'journalctl', 'sysctl'], true);
if (JOURNALD === undefined) missing.push('systemd-journald');
explainSkip('end-to-end fresh Debian tests', missing);

const SUBNET = 206;
// An address that never fails a login for real: only forged lines carry it.
const FORGED = `10.${SUBNET}.1.99`;
const MAXRETRY = 3;

describe.skipIf(missing.length > 0)('a fresh Debian: kmsg, sshd in the journal, no rsyslog (nftables)', () => {
  const lab = new Lab({ name: 'kwe2e-fresh', subnet: SUBNET, sshd: true, rsyslog: false, journald: true });
  useLab(lab, () => `[options]
firewall = nftables
journal_directory = ${lab.journalDirectory}
maxretry = ${MAXRETRY}
findtime = 10m
bantime = 10m
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open = 22/tcp
open_for = 120
close_on_logout = yes
`);

  function openSshGrants(src: string): number {
    return lab.daemonLog.split('\n').filter((line) => line.includes(`Opened 22/tcp for ${src} (door openSSH,`)).length;
  }

  it('picks kmsg for knocks and the journal for sshd by itself, with no syslog file anywhere', () => {
    expect(existsSync(lab.kernLog)).toBe(false);
    expect(existsSync(lab.authLog)).toBe(false);
    expect(lab.daemonLog).toContain(`reading kernel: kmsg (auto); sshd: journal in ${lab.journalDirectory} (auto: it has sshd entries).`);
    expect(lab.daemonLog).not.toContain('syslog file');
  });

  it('opens the real port for a real knock, sees the ssh login in the journal, and closes on its logout', async () => {
    expect(lab.canConnect(lab.client)).toBe(false);
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await waitFor('the grant', () => openSshGrants(lab.clientAddress) === 1);
    expect(lab.canConnect(lab.client)).toBe(true);
    expect(lab.sshLogin(lab.client).status).toBe(0);
    // The grant lasts 120 s: within the bound only the logout can close it.
    await waitFor('the grant to close on logout', () => lab.daemonLog.includes(`Closed openSSH for ${lab.clientAddress} (logout)`), 15_000);
    expect(lab.daemonLog).toContain(`SSH login of "root" from ${lab.clientAddress}.`);
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('bans for real failed logins, and for nothing logger -t "sshd[1]" writes into the same journal', async () => {
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await waitFor('the client\'s second grant', () => openSshGrants(lab.clientAddress) === 2);
    // Root's logger with sshd's tag, on the journal's syslog socket (/dev/log on the host):
    // more failures than maxretry for an address that never fails, and for the client's
    // granted address.
    for (const src of [FORGED, lab.clientAddress]) {
      for (let i = 0; i <= MAXRETRY; i++) {
        spawnSync('logger', ['-u', lab.journalSocket, '-t', 'sshd[1]', `Failed password for root from ${src} port 4242 ssh2`], { timeout: 5000 });
      }
    }
    // They are in the journal as sshd's (the matches the daemon's journalctl uses); only the
    // credentials journald recorded tell them apart.
    const forged = (src: string): number => lab.journal(['-o', 'cat', 'SYSLOG_IDENTIFIER=sshd']).split('\n')
      .filter((line) => line === `Failed password for root from ${src} port 4242 ssh2`).length;
    await waitFor('the forged lines in the journal', () => forged(FORGED) === MAXRETRY + 1 && forged(lab.clientAddress) === MAXRETRY + 1);
    // Real failures after them: once the admin is banned, every line before was read.
    await lab.knock(lab.admin, ['7000', '8000', '9000/udp']);
    await waitFor('the admin\'s grant', () => openSshGrants(lab.adminAddress) === 1);
    for (let attempt = 0; attempt < MAXRETRY; attempt++) expect(lab.sshWrongPassword(lab.admin)).not.toBe(0);
    await waitFor('the ban', () => lab.daemonLog.includes(`Banned ${lab.adminAddress} `), 15_000);
    // The grant's close is its own firewall change, logged once it is in force, after the ban's.
    await waitFor('the revoked grant\'s close', () => lab.daemonLog.includes(`Closed openSSH for ${lab.adminAddress} (revoked)`), 5000);
    expect(lab.canConnect(lab.admin)).toBe(false);
    // The forged lines banned nothing and closed nothing.
    expect(lab.daemonLog).not.toContain(FORGED);
    expect(lab.daemonLog).not.toContain(`Banned ${lab.clientAddress}`);
    expect(lab.daemonLog).not.toContain(`Closed openSSH for ${lab.clientAddress} (revoked)`);
    expect(lab.inServer(['nft', 'list', 'set', 'inet', 'knockwatch', 'banned4']).match(/10\.206\.\d+\.\d+/g)).toEqual([lab.adminAddress]);
    expect(lab.canConnect(lab.client)).toBe(true);
  });
});

describe.skipIf(missing.length > 0)('a fresh Debian: kmsg, no rsyslog (iptables)', () => {
  const lab = new Lab({ name: 'kwe2e-fresh-ipt', subnet: SUBNET, rsyslog: false });
  useLab(lab, () => `[options]
firewall = iptables
auth_source = none
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open = 22/tcp
open_for = 60
`);

  it('picks kmsg by itself and opens the real port for a real knock', async () => {
    expect(existsSync(lab.kernLog)).toBe(false);
    expect(lab.daemonLog).toContain('reading kernel: kmsg (auto); sshd: none (sshd features are off).');
    expect(lab.canConnect(lab.client)).toBe(false);
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await lab.waitForGrant(lab.clientAddress);
    expect(lab.canConnect(lab.client)).toBe(true);
    expect(lab.inServer(['iptables', '-w', '-S', 'KNOCKWATCH'])).toContain(lab.clientAddress);
    expect(lab.canConnect(lab.admin)).toBe(false);
  });
});
