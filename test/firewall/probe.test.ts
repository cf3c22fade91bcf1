import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Door } from '../../src/config/types.js';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import { DryRunBackend } from '../../src/firewall/dry-run.js';
import { findProgram } from '../../src/firewall/find-program.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { FIREWALL_CONFIG } from '../helpers/firewall-config.js';
import { recorder } from '../helpers/recorder.js';

// Whether a backend can work here, found without changing anything.
const plan = buildFirewallPlan(FIREWALL_CONFIG);
const everywhere = (program: string): string => `/usr/sbin/${program}`;
const DOOR = { name: 'openSSH', startCommand: '/sbin/iptables -I INPUT -s %IP% -j ACCEPT', stopCommand: 'knock-close %IP%' } as Door;

describe('probe', () => {
  it.each([
    // nftables
    ['nft missing', () => new NftablesBackend(plan, recorder().runner, '/nonexistent/nft'), '/nonexistent/nft is not installed; install the nftables package, or set firewall = iptables.'],
    ['nft without CAP_NET_ADMIN', () => new NftablesBackend(plan, recorder(() => ({ failed: true, reason: 'exit status 1: Operation not permitted' })).runner, process.execPath),
      `${process.execPath} -j list tables failed (exit status 1: Operation not permitted); run knockwatch as root (it needs CAP_NET_ADMIN) with an nft that has JSON support.`],
    ['nft usable', () => new NftablesBackend(plan, recorder().runner, process.execPath), undefined],
    // iptables
    ['ip6tables-restore missing', () => new IptablesBackend(plan, recorder().runner, (p) => (p === 'ip6tables-restore' ? undefined : everywhere(p))),
      'ip6tables-restore not found; install the iptables package, or set firewall = nftables.'],
    ['ip6tables without permission', () => new IptablesBackend(plan, recorder((line) => (line.startsWith('ip6tables') ? { failed: true, reason: 'exit status 4' } : undefined)).runner, everywhere),
      'ip6tables -w -S INPUT failed (exit status 4); run knockwatch as root (it needs CAP_NET_ADMIN).'],
    ['iptables usable', () => new IptablesBackend(plan, recorder().runner, everywhere), undefined],
    // command: its programs, then its LOG rules
    ['a command program missing', () => new CommandBackend([DOOR], recorder().runner, new DryRunBackend(), (p) => (p === 'knock-close' ? undefined : p)),
      '[openSSH] stop_command: program "knock-close" not found or not executable; install it or give its absolute path.'],
    ['command LOG rules impossible', () => new CommandBackend([DOOR], recorder().runner, new NftablesBackend(plan, recorder().runner, '/nonexistent/nft'), (p) => p),
      '/nonexistent/nft is not installed; install the nftables package, or set firewall = iptables.'],
    ['command usable', () => new CommandBackend([DOOR], recorder().runner, new DryRunBackend(), (p) => p), undefined],
    ['dry-run', () => new DryRunBackend(), undefined],
  ])('%s', async (_case, make, expected) => {
    expect(await make().probe()).toBe(expected);
  });

  it('changes nothing', async () => {
    const { runner, calls } = recorder();
    await new NftablesBackend(plan, runner, process.execPath).probe();
    await new IptablesBackend(plan, runner, everywhere).probe();
    expect(calls).toEqual([`${process.execPath} -j list tables`, 'iptables -w -S INPUT', 'ip6tables -w -S INPUT']);
  });
});

describe('findProgram', () => {
  it.each([
    [process.execPath, process.execPath],
    ['/nonexistent/tool', undefined],
    ['/tmp', undefined],
    ['./relative/tool', undefined],
    ['node', process.execPath],
  ])('finds %s as %s', (name, found) => {
    expect(findProgram(name, dirname(process.execPath))).toBe(found);
  });
});
