import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/access/grant-table.js';
import { parseConfig } from '../../src/config/load-config.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { explainSkip, missingPrerequisites, run } from '../helpers/prerequisites.js';

// Real iptables (its nf_tables flavour: nft shows each rule's handle) in a namespace of this suite's own.
const missing = missingPrerequisites(['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'nft', 'ip'], true);
if (missing.length === 0 && !run('iptables', ['-V']).includes('nf_tables')) missing.push('iptables (nf_tables)');
explainSkip('iptables window turn', missing);

const HOUR = 1_699_999_200_000;
const INI = `[options]\nfirewall = iptables\n[openSSH]\nsecret_file = /s\nrotate = 1h\nport_range = 10000-10999\nskew = 0\nopen = 22/tcp\nmax_connections = 1\n`;
const plan = buildFirewallPlan(parseConfig(INI, 'test.ini', undefined, undefined, () => Buffer.from('a long random secret')));
const GRANTS: Grant[] = ['203.0.113.7', '2001:db8::7'].map((src) => ({ src, door: 'openSSH', ports: [{ port: 22, proto: 'tcp' }], opened: HOUR, expires: HOUR + 7_200_000 }));

describe.skipIf(missing.length > 0)('iptables window turn', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = createNamespace(`kw12-ipt-${process.pid}`);
  });
  afterAll(() => ns?.remove());

  // Each rule's handle by what it does: a rule made anew has a new handle.
  const rules = (family: 'ip' | 'ip6'): Map<string, string> => new Map(ns.exec('nft', ['-a', 'list', 'chain', family, 'filter', 'KNOCKWATCH']).split('\n')
    .map((line) => /^\s+(.*) # handle (\d+)$/.exec(line)).filter((match) => match !== null).map((match) => [match[1] ?? '', match[2] ?? '']));
  const ports = (family: 'ip' | 'ip6'): string[] => [...rules(family).keys()].filter((rule) => rule.includes(' log ')).map((rule) => /dport (\d+)/.exec(rule)?.[1] ?? '');

  // A new connlimit match counts from zero: the grant rules (with their counts) must stay.
  it('changes only the knock rules: grant rules keep their handles, the gate stays last', async () => {
    const backend = new IptablesBackend(plan, ns.runner);
    await backend.start(GRANTS, HOUR);
    const before = { ip: rules('ip'), ip6: rules('ip6'), ports: ports('ip') };
    await backend.start(GRANTS, HOUR + 3_600_000);
    for (const family of ['ip', 'ip6'] as const) {
      const after = rules(family);
      const kept = [...before[family]].filter(([rule, handle]) => after.get(rule) === handle).map(([rule]) => rule);
      expect(kept.filter((rule) => rule.includes('203.0.113.7') || rule.includes('2001:db8::7'))).toHaveLength(1);
      // The gate (nft does not show iptables' comments): after every knock rule.
      expect([...after.keys()].at(-1)).toMatch(/^tcp dport 22 .* drop$/);
    }
    expect(ports('ip')).not.toEqual(before.ports);
    expect(ports('ip')).toHaveLength(5);
    expect(await backend.verify(GRANTS, HOUR + 3_600_000, [])).toBe(true);
  });

  // bind_source: the door's whole range is logged, as one port range match per family.
  it('installs a bound door\'s range as port range rules that real iptables takes', async () => {
    const bound = buildFirewallPlan(parseConfig(`${INI}bind_source = yes\n`, 'test.ini', undefined, undefined, () => Buffer.from('a long random secret')));
    const backend = new IptablesBackend(bound, ns.runner);
    await backend.start(GRANTS, HOUR);
    for (const cli of ['iptables', 'ip6tables']) {
      const knockRules = ns.exec(cli, ['-w', '-S', 'KNOCKWATCH']).split('\n').filter((line) => line.includes('knockwatch:openSSH') && !line.includes(' -s '));
      expect(knockRules.map((line) => `${/--dport (\S+)/.exec(line)?.[1]} ${/-j (\S+)/.exec(line)?.[1]}`)).toEqual(['10000:10999 LOG', '10000:10999 DROP']);
    }
    expect(await backend.verify(GRANTS, HOUR, [])).toBe(true);
  });
});
