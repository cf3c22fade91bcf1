import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { Lab, useLab } from './helpers/lab.js';

// icmp-steps.test.ts with the iptables backend: the echo request LOG rules are iptables'
// `-m length` matches (the whole IP packet, both families), knocks come from /dev/kmsg. A real
// echo request of N bytes between two SYNs opens the door, over IPv4 with `knockwatch knock`
// and over IPv6 with ping itself; a ping of another size does not.
const missing = missingPrerequisites(['ip', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'nc', 'ping'], true);
explainSkip('end-to-end icmp step tests (iptables)', missing);

const SUBNET = 220;
// The kernel log is shared by every namespace: this suite's LOG lines carry a prefix of its own.
const PREFIX = 'KW12ICMP';

describe.skipIf(missing.length > 0)('icmp:N steps against a real daemon (iptables, kmsg)', () => {
  const lab = new Lab({ name: 'kw12-icmp', subnet: SUBNET, rsyslog: false });
  useLab(lab, () => `[options]
firewall = iptables
auth_source = none
log_prefix = ${PREFIX}
[openSSH]
sequence = 7000,icmp:100,9000
seq_timeout = 10
open = 22/tcp
open_for = 60
`);

  // One echo request with `size` bytes of payload (ping -s), no reply awaited beyond 1 s.
  function ping(from: string, size: number, family: 4 | 6): void {
    spawnSync('ip', ['netns', 'exec', from, 'ping', `-${family}`, '-c', '1', '-W', '1', '-s', String(size), lab.serverAddressFor(from, family)], { timeout: 10_000 });
  }

  it('installs the echo request LOG and DROP rules, matching the whole packet\'s length in both families', () => {
    const rules = (cli: string): string[] => lab.inServer([cli, '-w', '-S', 'KNOCKWATCH']).split('\n').filter((line) => line.includes('-m length'))
      .map((line) => line.replace(/ -m comment .* -j /, ' -j ').replace(/ --log-prefix .*/, ''));
    expect(rules('iptables')).toEqual([
      '-A KNOCKWATCH -p icmp -m icmp --icmp-type 8 -m length --length 100 -j LOG',
      '-A KNOCKWATCH -p icmp -m icmp --icmp-type 8 -m length --length 100 -j DROP',
    ]);
    expect(rules('ip6tables')).toEqual([
      '-A KNOCKWATCH -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m length --length 100 -j LOG',
      '-A KNOCKWATCH -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m length --length 100 -j DROP',
    ]);
  });

  it('knockwatch knock 7000 icmp:100 9000 opens the door (ping -s 72: LEN=100)', async () => {
    expect(lab.canConnect(lab.client)).toBe(false);
    const result = spawnSync('ip', ['netns', 'exec', lab.client, process.execPath, lab.bin, 'knock', lab.serverAddressFor(lab.client), '7000', 'icmp:100', '9000', '-v'],
      { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain(`Knocked ${lab.serverAddressFor(lab.client)} icmp:100.`);
    await lab.waitForGrant(lab.clientAddress);
    expect(lab.canConnect(lab.client)).toBe(true);
  });

  it('a ping of 101 bytes instead opens nothing; ping -6 -s 52 (LEN=100) opens over IPv6', async () => {
    await lab.knock(lab.admin, ['7000']);
    ping(lab.admin, 73, 4);
    await lab.knock(lab.admin, ['9000']);
    const v6 = lab.addressOf(lab.admin, 6);
    await lab.knock(lab.admin, ['7000'], 50, undefined, 6);
    ping(lab.admin, 52, 6);
    await lab.knock(lab.admin, ['9000'], 50, undefined, 6);
    // The kernel log is read in order: once the IPv6 grant is there, the IPv4 knocks were decided.
    await lab.waitForGrant(v6);
    expect(lab.daemonLog).not.toContain(`Opened 22/tcp for ${lab.adminAddress}`);
    expect(lab.canConnect(lab.admin, 22, 6)).toBe(true);
    expect(lab.canConnect(lab.admin, 22, 4)).toBe(false);
  });
});
