import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { Lab, waitFor } from './helpers/lab.js';

// The real thing: packets from a client namespace, LOGged by the server namespace's real
// firewall, written to kern.log by a real rsyslogd, read by knockwatch, which changes the
// real nftables or iptables ruleset; a real TCP listener answers on port 22.
const missing = missingPrerequisites(['ip', 'nft', 'iptables', 'ip6tables', 'iptables-restore', 'rsyslogd', 'nc', 'sysctl'], true);
explainSkip('end-to-end daemon tests', missing);

// Long enough for a restart (node start-up included) to happen well within a grant on a slow machine.
const OPEN_FOR = 8;
// How long a grant may take to run out: its lifetime, and room for a slow machine.
const RUN_OUT_MS = (OPEN_FOR + 15) * 1000;

describe.skipIf(missing.length > 0).each([
  { backend: 'nftables', name: 'kwe2e-nft', subnet: 201 },
  { backend: 'iptables', name: 'kwe2e-ipt', subnet: 202 },
])('knockwatch with $backend, for real', ({ backend, name, subnet }) => {
  const lab = new Lab({ name, subnet });
  let config = '';

  beforeAll(async () => {
    await lab.up();
    config = lab.writeConfig(`[options]
firewall = ${backend}
whitelist = ${lab.adminAddress}, fd00:${subnet}:2::/64
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
tcpflags = syn,!ack
open = 22/tcp
open_for = ${OPEN_FOR}
`);
    await lab.startDaemon(config);
  });

  afterAll(() => lab.down());

  it('installs the gate: before any knock a connect fails', () => {
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('lets a whitelisted address in without knocking', () => {
    expect(lab.canConnect(lab.admin)).toBe(true);
  });

  it('never opens for a wrong sequence', async () => {
    await lab.knock(lab.client, ['8000', '7000', '9000/udp']);
    await waitFor('the broken attempt', () => lab.daemonLog.includes(`Knock of ${lab.clientAddress} on openSSH broken: wrong-port`));
    expect(lab.daemonLog).not.toContain('Opened');
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('opens for the correct knock, for that address only, and closes after the lifetime', async () => {
    // The lifetime counts from the knock: measured from there, a slow machine only adds time.
    const knocked = await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await waitFor('the grant', () => lab.daemonLog.includes(`Opened 22/tcp for ${lab.clientAddress}`), 10_000);
    expect(lab.canConnect(lab.client)).toBe(true);
    expect(grantedAddresses()).toEqual([lab.clientAddress]);
    await waitFor('the grant to run out', () => !lab.canConnect(lab.client), RUN_OUT_MS, 200);
    expect(Date.now() - knocked).toBeGreaterThan((OPEN_FOR - 1) * 1000);
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('shows the grant in status and closes it on the admin\'s word (knockwatch close), in the firewall too', async () => {
    await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await waitFor('the grant', () => grantedAddresses().includes(lab.clientAddress), 10_000, 200);
    const status = lab.ask(['status', '--json']);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { firewall: { backend: string }; pipeline: { grants: { src: string; door: string }[] } };
    expect(report.firewall.backend).toBe(backend);
    expect(report.pipeline.grants.map((grant) => [grant.src, grant.door])).toEqual([[lab.clientAddress, 'openSSH']]);
    expect(lab.ask(['close', lab.clientAddress, 'openSSH'])).toEqual({ code: 0, stdout: `Closed openSSH for ${lab.clientAddress}.\n`, stderr: '' });
    // The answer comes once the firewall took the change.
    expect(grantedAddresses()).toEqual([]);
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  function listing(): string {
    return backend === 'nftables'
      ? lab.inServer(['nft', 'list', 'table', 'inet', 'knockwatch'])
      : lab.inServer(['iptables', '-w', '-S', 'KNOCKWATCH']);
  }

  // Addresses with a grant in the firewall right now.
  function grantedAddresses(): string[] {
    const text = listing();
    if (backend === 'nftables') {
      const sets = text.match(/set grant4_\d+ \{[^}]*\}/g) ?? [];
      return sets.flatMap((set) => set.match(/10\.\d+\.\d+\.\d+/g) ?? []);
    }
    return [...text.matchAll(/-s (\S+)\/32 .*knockwatch:openSSH.*-j ACCEPT/g)].map((m) => m[1] ?? '');
  }

  it('does the same over IPv6: gate, knock, grant for that address, whitelist', async () => {
    const client6 = lab.addressOf(lab.client, 6);
    expect(lab.canConnect(lab.client, 22, 6)).toBe(false);
    expect(lab.canConnect(lab.admin, 22, 6)).toBe(true);
    await lab.knock(lab.client, ['7000', '8000', '9000/udp'], 50, undefined, 6);
    await waitFor('the IPv6 grant', () => lab.daemonLog.includes(`Opened 22/tcp for ${client6}`));
    expect(lab.canConnect(lab.client, 22, 6)).toBe(true);
    // IPv4 from the same host is another address: still shut
    expect(lab.canConnect(lab.client, 22, 4)).toBe(false);
    await waitFor('the IPv6 grant to run out', () => !lab.canConnect(lab.client, 22, 6), RUN_OUT_MS, 200);
  });

  it(`tags every rule it installs as knockwatch's (${backend})`, () => {
    const text = listing();
    const rules = backend === 'nftables'
      ? (text.split('chain input {')[1] ?? '').split('\n').map((line) => line.trim()).filter((line) => /\b(accept|drop)\b/.test(line) && !line.startsWith('type '))
      : [...lab.inServer(['iptables', '-w', '-S', 'KNOCKWATCH']).split('\n'), ...lab.inServer(['ip6tables', '-w', '-S', 'KNOCKWATCH']).split('\n')]
        .filter((line) => line.startsWith('-A '));
    expect(rules.length).toBeGreaterThan(5);
    for (const rule of rules) expect(rule).toMatch(/comment "?knockwatch:[\w,]+"?/);
    expect(text).toContain('knockwatch:gate');
    expect(text).toContain(lab.adminAddress);
  });

  it('refuses a bad config on SIGHUP, keeps working, and takes a good one', async () => {
    const good = readFileSync(config, 'utf8');
    writeFileSync(config, good.replace('sequence = 7000,8000,9000:udp', 'sequence = 7000,80000'));
    lab.signalDaemon('SIGHUP');
    await waitFor('the refusal', () => lab.daemonLog.includes('Kept the running config'));
    expect(lab.daemonLog).toMatch(/Kept the running config: .* sequence: expected a port \(1-65535\), found "80000"/);
    writeFileSync(config, good);
    lab.signalDaemon('SIGHUP');
    await waitFor('the reload', () => lab.daemonLog.includes(`Reloaded ${config}.`));
    expect(lab.canConnect(lab.admin)).toBe(true);
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('keeps the whitelist and the gate after SIGKILL', async () => {
    expect(await lab.stopDaemon('SIGKILL')).toBe(null);
    expect(lab.canConnect(lab.admin)).toBe(true);
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('after a restart keeps live grants, drops ones it does not know, and expires on time', async () => {
    await lab.startDaemon(config);
    const knocked = await lab.knock(lab.client, ['7000', '8000', '9000/udp']);
    await waitFor('the grant', () => lab.daemonLog.includes(`Opened 22/tcp for ${lab.clientAddress}`));
    await waitFor('the state file', () => lab.stateFileHas(lab.clientAddress), 15_000);
    expect(await lab.stopDaemon('SIGKILL')).toBe(null);
    // Something in knockwatch's piece that knockwatch never granted.
    const stranger = `10.${subnet}.1.99`;
    if (backend === 'nftables') lab.inServer(['nft', 'add', 'element', 'inet', 'knockwatch', 'grant4_0', `{ ${stranger} }`]);
    else lab.inServer(['iptables', '-w', '-I', 'KNOCKWATCH', '1', '-s', `${stranger}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', '22', '-m', 'comment', '--comment', 'knockwatch:openSSH', '-j', 'ACCEPT']);
    expect(grantedAddresses()).toContain(stranger);
    await lab.startDaemon(config);
    expect(grantedAddresses()).toEqual([lab.clientAddress]);
    expect(lab.canConnect(lab.client)).toBe(true);
    await waitFor('the restored grant to run out', () => !lab.canConnect(lab.client), RUN_OUT_MS, 200);
    expect(Date.now() - knocked).toBeGreaterThan((OPEN_FOR - 1) * 1000);
  });

  it('stops cleanly on SIGTERM, leaving the gate and the whitelist', async () => {
    expect(await lab.stopDaemon('SIGTERM')).toBe(0);
    expect(lab.daemonLog).toContain('Stopped.');
    expect(lab.canConnect(lab.admin)).toBe(true);
    expect(lab.canConnect(lab.client)).toBe(false);
  });

  it('knockwatch flush removes its own piece and nothing else', () => {
    if (backend === 'nftables') lab.inServer(['nft', 'add', 'table', 'inet', 'admins_own']);
    else lab.inServer(['iptables', '-w', '-A', 'INPUT', '-p', 'tcp', '--dport', '2222', '-j', 'ACCEPT']);
    const out = lab.inServer([process.execPath, lab.bin, 'flush']);
    expect(out).toMatch(/^Removed /);
    if (backend === 'nftables') {
      const tables = lab.inServer(['nft', 'list', 'tables']);
      expect(tables).toContain('table inet admins_own');
      expect(tables).not.toContain('knockwatch');
    } else {
      const rules = lab.inServer(['iptables', '-w', '-S']);
      expect(rules).not.toContain('KNOCKWATCH');
      expect(rules).toContain('-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT');
    }
    expect(lab.canConnect(lab.client)).toBe(true);
  });
});
