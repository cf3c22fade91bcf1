import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { FirewallKind } from '../../../src/config/types.js';
import { Lab, useLab } from './lab.js';

export interface IcmpStepSuite {
  title: string;
  name: string;
  subnet: number;
  firewall: FirewallKind;
  // Options besides the firewall (a log prefix of the suite's own).
  options?: string;
  // Checks the echo request rules the backend installed in the server namespace.
  installed: (lab: Lab) => void;
}

// A door with an icmp:N step against a real daemon (knocks from /dev/kmsg, no rsyslogd): a
// real echo request of N bytes between two SYNs opens it, over IPv4 with `knockwatch knock`
// (which runs ping) and over IPv6 with ping itself; a ping of another size does not.
export function describeIcmpSteps(suite: IcmpStepSuite, skip: boolean): void {
  describe.skipIf(skip)(suite.title, () => {
    const lab = new Lab({ name: suite.name, subnet: suite.subnet, rsyslog: false });
    useLab(lab, () => `[options]
firewall = ${suite.firewall}
auth_source = none
${suite.options ?? ''}[openSSH]
sequence = 7000,icmp:100,9000
seq_timeout = 10
open = 22/tcp
open_for = 60
`);

    // One echo request with `size` bytes of payload (ping -s), no reply awaited beyond 1 s.
    function ping(from: string, size: number, family: 4 | 6): void {
      spawnSync('ip', ['netns', 'exec', from, 'ping', `-${family}`, '-c', '1', '-W', '1', '-s', String(size), lab.serverAddressFor(from, family)], { timeout: 10_000 });
    }

    it('installs the echo request rules', () => {
      suite.installed(lab);
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
}
