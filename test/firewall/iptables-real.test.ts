import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBackend } from '../../src/firewall/command-backend.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { FIREWALL_CONFIG, grantOf } from '../helpers/firewall-config.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

// Real iptables and ip6tables in a private network namespace of this suite's own.
const missing = missingPrerequisites(['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'ip'], true);
explainSkip('iptables backend against real iptables', missing);

const NOW = 1_000_000;
const plan = buildFirewallPlan(FIREWALL_CONFIG);
const GRANTS = [grantOf('203.0.113.7'), grantOf('2001:db8::7', 'web', Infinity)];
const BANS = [{ src: '203.0.113.9', until: NOW + 60_000 }];
const HASHLIMIT4 = ['-m', 'hashlimit', '--hashlimit-upto', '20/sec', '--hashlimit-burst', '60', '--hashlimit-mode', 'srcip', '--hashlimit-name', 'knockwatch-log4-20-60-32',
  '--hashlimit-htable-max', '65536', '--hashlimit-htable-expire', '3000'];
const comment = (what: string): string[] => ['-m', 'comment', '--comment', `knockwatch:${what}`];

describe.skipIf(missing.length > 0)('iptables backend against real iptables', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = createNamespace(`kwfw-ipt-${process.pid}`);
  });
  afterAll(() => ns?.remove());

  // Drift someone else makes: each must make verify false, and start() must repair it.
  it.each([
    ['the chain flushed', ['iptables', '-w', '-F', 'KNOCKWATCH']],
    ['the IPv6 chain flushed', ['ip6tables', '-w', '-F', 'KNOCKWATCH']],
    ['the gate rule deleted', ['iptables', '-w', '-D', 'KNOCKWATCH', '-p', 'tcp', '-m', 'tcp', '--dport', '22', ...comment('gate'), '-j', 'DROP']],
    ['a knock LOG rule deleted', ['iptables', '-w', '-D', 'KNOCKWATCH', '-p', 'tcp', '-m', 'tcp', '--dport', '7000', ...comment('openSSH,closeSSH'), ...HASHLIMIT4, '-j', 'LOG', '--log-prefix', 'KNOCK ']],
    ['the whitelist rule deleted', ['iptables', '-w', '-D', 'KNOCKWATCH', '-s', '192.0.2.10/32', '-p', 'tcp', '-m', 'tcp', '--dport', '22', ...comment('whitelist'), '-j', 'ACCEPT']],
    ['a foreign grant rule', ['iptables', '-w', '-I', 'KNOCKWATCH', '1', '-s', '198.51.100.66/32', '-p', 'tcp', '-m', 'tcp', '--dport', '22', ...comment('openSSH'), '-j', 'ACCEPT']],
    ['a foreign rule', ['iptables', '-w', '-I', 'KNOCKWATCH', '1', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']],
    ['a grant rule deleted', ['ip6tables', '-w', '-D', 'KNOCKWATCH', '-s', '2001:db8::7/128', '-p', 'tcp', '-m', 'tcp', '--dport', '8443', ...comment('web'), '-j', 'ACCEPT']],
    ['a ban rule deleted', ['iptables', '-w', '-D', 'KNOCKWATCH', '-s', '203.0.113.9/32', '-m', 'conntrack', '--ctstate', 'NEW,INVALID', ...comment('ban'), '-j', 'DROP']],
    ['the INPUT jump removed', ['ip6tables', '-w', '-D', 'INPUT', '-m', 'comment', '--comment', 'knockwatch', '-j', 'KNOCKWATCH']],
  ])('verify notices %s, and start repairs it', async (_what, [file = '', ...args]) => {
    const backend = new IptablesBackend(plan, ns.runner);
    await backend.start(GRANTS, NOW, BANS);
    expect(await backend.verify(GRANTS, NOW, BANS)).toBe(true);
    ns.exec(file, args);
    expect(await backend.verify(GRANTS, NOW, BANS)).toBe(false);
    await backend.start(GRANTS, NOW, BANS);
    expect(await backend.verify(GRANTS, NOW, BANS)).toBe(true);
  });

  it('verify stays true through its own open, close, ban and unban', async () => {
    const backend = new IptablesBackend(plan, ns.runner);
    await backend.start([], NOW);
    await backend.open(grantOf('203.0.113.7', 'web'));
    await backend.ban({ src: '2001:db8::9', until: NOW + 60_000 });
    expect(await backend.verify([grantOf('203.0.113.7', 'web')], NOW, [{ src: '2001:db8::9', until: NOW + 60_000 }])).toBe(true);
    await backend.close(grantOf('203.0.113.7', 'web'));
    await backend.unban('2001:db8::9');
    expect(await backend.verify([], NOW, [])).toBe(true);
  });

  it('puts a ban after the whitelist, so a whitelisted address is never dropped by it', async () => {
    const backend = new IptablesBackend(plan, ns.runner);
    await backend.start([], NOW);
    await backend.ban({ src: '192.0.2.10', until: NOW + 60_000 });
    const rules = ns.exec('iptables', ['-w', '-S', 'KNOCKWATCH']).split('\n');
    const firstBan = rules.findIndex((rule) => rule.includes('knockwatch:ban'));
    expect(firstBan).toBeGreaterThan(rules.findLastIndex((rule) => rule.includes('knockwatch:whitelist')));
  });

  it('exists while installed and is gone after remove, INPUT jumps included', async () => {
    const backend = new IptablesBackend(plan, ns.runner);
    await backend.start(GRANTS, NOW, BANS);
    expect(await backend.exists()).toBe(true);
    await backend.remove(GRANTS);
    expect(await backend.exists()).toBe(false);
    for (const cli of ['iptables', 'ip6tables']) expect(ns.exec(cli, ['-w', '-S', 'INPUT'])).not.toContain('KNOCKWATCH');
    expect(await backend.probe()).toBeUndefined();
  });

  it('firewall = command: installs only the LOG rules, verifies and removes them', async () => {
    const logRules = new IptablesBackend(buildFirewallPlan(FIREWALL_CONFIG, { logOnly: true }), ns.runner);
    const backend = new CommandBackend([], ns.runner, logRules);
    await backend.start([grantOf('203.0.113.7')], NOW);
    const listed = ns.exec('iptables', ['-w', '-S', 'KNOCKWATCH']);
    expect(listed).toContain('-j LOG --log-prefix "KNOCK "');
    expect(listed).not.toMatch(/DROP|ACCEPT/);
    expect(await backend.verify([grantOf('203.0.113.7')], NOW, [])).toBe(true);
    ns.exec('iptables', ['-w', '-F', 'KNOCKWATCH']);
    expect(await backend.verify([grantOf('203.0.113.7')], NOW, [])).toBe(false);
    await backend.remove([]);
    expect(await backend.exists()).toBe(false);
  });
});
