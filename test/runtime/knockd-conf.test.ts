import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { FirewallKind } from '../../src/config/types.js';
import type { Decision } from '../../src/engine/decisions.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { debian } from '../helpers/debian-knockd.js';

const filter = loadFilterFile(builtinFilterPath('netfilter'));

function knocks(second: number, src: string, ports: number[]): string[] {
  return ports.map((port, i) => `2026-11-22T09:00:${String(second + i).padStart(2, '0')}.000000+00:00 gate kernel: knockwatch IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${41000 + second + i} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `);
}

describe("Debian's knockd.conf under a firewall knockwatch manages", () => {
  it.each(['nftables', 'iptables'] as FirewallKind[])('%s: openSSH opens 22/tcp, closeSSH closes it, openHTTPS opens 443/tcp', (firewall) => {
    const config = parseConfig(debian(''), '/etc/knockd.conf', firewall);
    const plan = buildFirewallPlan(config);
    expect(plan.gates.map((gate) => `${gate.door} ${gate.ports.map((step) => `${step.port}/${step.proto}`).join(',')}`)).toEqual(['openSSH 22/tcp', 'openHTTPS 443/tcp']);
    const decisions: Decision[] = [];
    const pipeline = new Pipeline(config, (decision) => decisions.push(decision));
    const parse = createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference: 0 }));
    pipeline.handleLines([
      ...knocks(1, '203.0.113.7', [7000, 8000, 9000]),
      ...knocks(10, '203.0.113.7', [9000, 8000, 7000]),
      ...knocks(20, '203.0.113.7', [12345, 54321, 24680, 13579]),
    ], parse);
    const story = decisions.filter((d) => ['open', 'close'].includes(d.type))
      .map((d) => (d.type === 'open' ? `open ${d.door} ${d.ports.map((step) => `${step.port}/${step.proto}`).join(',')}` : d.type === 'close' ? `close ${d.door} by ${d.by}` : ''));
    // One-shot knockd commands: the grants last until closed, as the rules did under knockd.
    expect(story).toEqual(['open openSSH 22/tcp', 'close openSSH by closeSSH', 'open openHTTPS 443/tcp']);
    expect(pipeline.grants().map((grant) => [grant.door, grant.expires])).toEqual([['openHTTPS', Infinity]]);
  });
});
