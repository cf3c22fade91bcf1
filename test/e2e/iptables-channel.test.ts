import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestoreProcessChannel, type IptablesChannel } from '../../src/firewall/iptables-channel.js';
import { readIptablesContent } from '../../src/firewall/iptables-content.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { FIREWALL_CONFIG, grantOf } from '../helpers/firewall-config.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

// The iptables backend's changes through real long-running iptables-restore and
// ip6tables-restore processes, in a network namespace of this suite's own.
const missing = missingPrerequisites(['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'ip'], true);
explainSkip('iptables channel against real iptables-restore', missing);

const NOW = 1_000_000;
const plan = buildFirewallPlan(FIREWALL_CONFIG);
// Each change's outcome: "ok" or its error message.
const outcome = (sent: Promise<void>): Promise<string> => sent.then(() => 'ok', (error: Error) => error.message);

describe.skipIf(missing.length > 0)('iptables channel against real iptables-restore', () => {
  let ns: Namespace;
  let channels: Record<4 | 6, RestoreProcessChannel>;
  let backend: IptablesBackend;

  beforeAll(() => {
    ns = createNamespace('kwipt-test');
    const channel = (cli: 'iptables' | 'ip6tables'): RestoreProcessChannel => new RestoreProcessChannel({
      chain: 'KNOCKWATCH',
      command: ['ip', 'netns', 'exec', ns.name, `${cli}-restore`, '--noflush', '-w'],
      readInstalled: async () => readIptablesContent(ns.exec(cli, ['-w', '-S', 'KNOCKWATCH'])).entries,
    });
    channels = { 4: channel('iptables'), 6: channel('ip6tables') };
    backend = new IptablesBackend(plan, ns.runner, undefined, channels);
  });
  afterAll(async () => {
    await backend?.release();
    ns?.remove();
  });

  // How many rules of the chain carry this address.
  const copies = (cli: string, src: string): number => ns.exec(cli, ['-w', '-S', 'KNOCKWATCH']).split('\n').filter((rule) => rule.includes(` -s ${src}/`)).length;

  it('opens 50 grants and a ban sent all at once, twice without a second copy, and closes them all', async () => {
    await backend.start([], NOW);
    const grants = Array.from({ length: 50 }, (_, i) => grantOf(i % 2 === 0 ? `10.7.0.${i + 1}` : `2001:db8:7::${i + 1}`, 'web'));
    const ban = { src: '10.7.1.1', until: NOW + 60_000 };
    for (let round = 0; round < 2; round++) {
      const opened = await Promise.all([...grants.map((grant) => outcome(backend.open(grant))), outcome(backend.ban(ban))]);
      expect(opened).toEqual([...grants.map(() => 'ok'), 'ok']);
    }
    expect(grants.map((grant) => copies(grant.src.includes(':') ? 'ip6tables' : 'iptables', grant.src))).toEqual(grants.map(() => 2));
    expect(await backend.verify(grants, NOW, [ban])).toBe(true);
    const closed = await Promise.all([...grants.map((grant) => outcome(backend.close(grant))), outcome(backend.unban(ban.src))]);
    expect(closed).toEqual([...grants.map(() => 'ok'), 'ok']);
    expect(await backend.verify([], NOW, [])).toBe(true);
  });

  it('closes a grant someone else already deleted, and applies the changes that came with it', async () => {
    await backend.start([], NOW);
    await backend.open(grantOf('10.7.2.1'));
    ns.exec('iptables', ['-w', '-D', 'KNOCKWATCH', '-s', '10.7.2.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', '22', '-m', 'comment', '--comment', 'knockwatch:openSSH', '-j', 'ACCEPT']);
    const outcomes = await Promise.all([outcome(backend.open(grantOf('10.7.2.2'))), outcome(backend.close(grantOf('10.7.2.1'))), outcome(backend.open(grantOf('10.7.2.3')))]);
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(await backend.verify([grantOf('10.7.2.2'), grantOf('10.7.2.3')], NOW, [])).toBe(true);
  });

  it('fails a change the kernel refuses with iptables-restore\'s reason, applies the others, and goes on with a new process', async () => {
    await backend.start([], NOW);
    const channel: IptablesChannel = channels[4];
    const rule = (src: string): string[] => ['-s', `${src}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', '22', '-m', 'comment', '--comment', 'knockwatch:openSSH', '-j', 'ACCEPT'];
    const change = (src: string, insertAt: number): { key: string; rule: string[]; insertAt: number } => ({ key: `grant openSSH ${src} tcp/22`, rule: rule(src), insertAt });
    const outcomes = await Promise.all([
      outcome(channel.send([change('10.7.3.1', 6)])),
      outcome(channel.send([change('10.7.3.2', 6)])),
      outcome(channel.send([change('10.7.3.3', 999)])),
      outcome(channel.send([change('10.7.3.4', 6)])),
    ]);
    expect(outcomes).toEqual(['ok', 'ok', expect.stringMatching(/^ip netns exec kwipt-test iptables-restore --noflush -w: line \d+ failed: Index of insertion too big\.$/), 'ok']);
    expect(['10.7.3.1', '10.7.3.2', '10.7.3.3', '10.7.3.4'].map((src) => copies('iptables', src))).toEqual([1, 1, 0, 1]);
    expect(await outcome(backend.close(grantOf('10.7.3.1')))).toBe('ok');
    expect(copies('iptables', '10.7.3.1')).toBe(0);
  });
});
