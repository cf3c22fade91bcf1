import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { Lab, useLab, waitFor } from './helpers/lab.js';

// Knocks read from /dev/kmsg: the daemon is started with no --log and no kern_log, and a
// local user's (or root's) forged lines open nothing, while the same lines do land in the
// syslog file a `file:` source would read.
const missing = missingPrerequisites(['ip', 'nft', 'rsyslogd', 'nc', 'logger', 'sysctl'], true);
explainSkip('end-to-end kmsg tests', missing);

const SUBNET = 205;
// An address that never knocks for real: only forged lines carry it.
const FORGED = `10.${SUBNET}.1.99`;

describe.skipIf(missing.length > 0)('knocks from /dev/kmsg only (nftables)', () => {
  const lab = new Lab({ name: 'kwe2e-kmsg', subnet: SUBNET });
  useLab(lab, () => `[options]
firewall = nftables
auth_source = none
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
open = 22/tcp
open_for = 60
`);

  function granted(): string {
    return lab.inServer(['nft', 'list', 'table', 'inet', 'knockwatch']);
  }

  it('picks kmsg by itself and opens for a real knock', async () => {
    expect(lab.daemonLog).toContain('reading kernel: kmsg (auto)');
    expect(lab.canConnect(lab.client)).toBe(false);
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await lab.waitForGrant(lab.clientAddress);
    expect(lab.canConnect(lab.client)).toBe(true);
  });

  it('opens nothing for forged knocks: logger -t kernel, a raw <4> datagram, a record root writes to /dev/kmsg', async () => {
    // The kernel's own text of the client's knocks (rsyslog copied them into kern.log), with
    // the forged address: exactly what the kernel writes, but from user space.
    const real = readFileSync(lab.kernLog, 'utf8').split('\n').filter((line) => line.includes(`SRC=${lab.clientAddress} `) && / kernel: /.test(line));
    const texts = ['DPT=7000 ', 'DPT=8000 ', 'DPT=9000 '].map((port) => {
      const line = real.find((candidate) => candidate.includes(port));
      if (line === undefined) throw new Error(`no real knock on ${port} in kern.log`);
      return line.slice(line.indexOf(' kernel: ') + ' kernel: '.length).replace(`SRC=${lab.clientAddress} `, `SRC=${FORGED} `);
    });
    for (const text of texts) spawnSync('logger', ['-u', lab.syslogSocket, '-p', 'kern.warning', '-t', 'kernel', text], { timeout: 5000 });
    for (const text of texts) spawnSync('nc', ['-U', '-u', '-w', '1', lab.syslogSocket], { input: `<4>Nov 22 09:00:00 gate kernel: ${text}`, timeout: 5000 });
    for (const text of texts) writeFileSync('/dev/kmsg', `<4>${text}\n`);
    // A file source would have read them as knocks: rsyslog wrote (at least) the raw datagrams
    // into kern.log as `kernel:` lines.
    await waitFor('the forged lines in kern.log', () => readFileSync(lab.kernLog, 'utf8').split(`SRC=${FORGED} `).length - 1 >= 3, 10_000, 100);
    // A real knock after them: once it opens, every record before it has been read.
    await lab.knock(lab.admin, ['7000', '8000', '9000/udp']);
    await lab.waitForGrant(lab.adminAddress);
    expect(lab.daemonLog).not.toContain(FORGED);
    expect(granted()).not.toContain(FORGED);
    expect(granted()).toContain(lab.adminAddress);
  });
});
