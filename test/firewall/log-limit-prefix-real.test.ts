import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FirewallBackend } from '../../src/firewall/backend.js';
import { runOrThrow } from '../../src/firewall/command-runner.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { buildNftRuleset, NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { normalizeAddress } from '../../src/net/address.js';
import { config } from '../helpers/engine.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

// The LOG limit keys IPv6 sources by their /64, IPv4 sources by address: real nft and real
// ip6tables in two namespaces of this suite's own joined by a veth pair, the logged packets
// counted at the LOG rule (no kernel log needed).
const missing = missingPrerequisites(['ip', 'nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore'], true);
explainSkip('LOG limit per IPv6 /64 against real nft and ip6tables', missing);

const BURST = 5;
// 1/second: the few milliseconds the packets take refill no budget.
const plan = buildFirewallPlan(config(`[options]
log_prefix = KWV6
log_limit = 1/second
log_burst = ${BURST}
[openSSH]
sequence = 7000,8000,9000:udp
open = 22/tcp
`));
const SERVER = { 4: '10.214.0.1', 6: 'fd00:214::1' };
const CLIENTS = ['10.214.1.2', '10.214.1.3', 'fd00:214:0:1::2', 'fd00:214:0:1::3', 'fd00:214:0:2::2', 'fd00:214:0:3::2'];
const PER_SOURCE = 3;

// Sends PER_SOURCE datagrams to port 9000 from each address given, one after the other.
const SENDER = `
import dgram from 'node:dgram';
const [server4, server6, ...sources] = process.argv.slice(1);
for (const source of sources) {
  const six = source.includes(':');
  const socket = dgram.createSocket(six ? 'udp6' : 'udp4');
  await new Promise((resolve) => socket.bind(0, source, resolve));
  for (let i = 0; i < ${PER_SOURCE}; i++) await new Promise((resolve, reject) => socket.send('knock', 9000, six ? server6 : server4, (error) => (error ? reject(error) : resolve())));
  socket.close();
}`;

describe.skipIf(missing.length > 0).each([
  { name: 'nftables', tag: 'n' },
  { name: 'iptables', tag: 'i' },
])('the LOG limit with real $name: one budget per IPv6 /64, per IPv4 address', ({ name, tag }) => {
  let server: Namespace;
  let client: Namespace;
  let backend: FirewallBackend;
  const link = `kwv6${tag}${process.pid % 100_000}`;

  // Packets that reached the UDP knock LOG rule so far (what it logged).
  const logged = (family: 4 | 6): number => {
    if (name === 'iptables') {
      const saved = server.exec(family === 4 ? 'iptables-save' : 'ip6tables-save', ['-c', '-t', 'filter']);
      const rule = saved.split('\n').find((line) => line.includes('--dport 9000') && line.includes('-j LOG'));
      return Number(/^\[(\d+):/.exec(rule ?? '')?.[1]);
    }
    const listed = server.exec('nft', ['list', 'chain', 'inet', 'knockwatch', 'input']);
    return Number(new RegExp(`counter packets (\\d+) bytes \\d+ comment "kwv6-probe${family}"`).exec(listed)?.[1]);
  };

  // The IPv6 sources in the limit's table, as the kernel keys them.
  const sources6 = (): string[] => {
    if (name === 'iptables') {
      // One line per entry: `expiry src:port->dst:port tokens...`, addresses written in full.
      const listed = server.exec('cat', [`/proc/net/ip6t_hashlimit/knockwatch-log6-1-${BURST}-64`]);
      return listed.split('\n').filter(Boolean).map((line) => normalizeAddress(line.split(' ')[1]?.split('->')[0]?.replace(/:\d+$/, '') ?? '') ?? line).sort();
    }
    const listed = JSON.parse(server.exec('nft', ['-j', 'list', 'set', 'inet', 'knockwatch', 'loglimit6'])) as { nftables: { set?: { elem?: { elem: { val: string } }[] } }[] };
    return (listed.nftables.find((item) => item.set !== undefined)?.set?.elem ?? []).map((elem) => elem.elem.val).sort();
  };

  // The packets of PER_SOURCE datagrams from each source that were logged.
  const send = (family: 4 | 6, sources: readonly string[]): number => {
    const before = logged(family);
    client.exec(process.execPath, ['--input-type=module', '-e', SENDER, SERVER[4], SERVER[6], ...sources]);
    return logged(family) - before;
  };

  beforeAll(async () => {
    server = createNamespace(`kwv6-srv${tag}-${process.pid}`);
    client = createNamespace(`kwv6-cli${tag}-${process.pid}`);
    execFileSync('ip', ['link', 'add', `${link}s`, 'netns', server.name, 'type', 'veth', 'peer', 'name', `${link}c`, 'netns', client.name]);
    server.exec('ip', ['addr', 'add', `${SERVER[4]}/16`, 'dev', `${link}s`]);
    server.exec('ip', ['-6', 'addr', 'add', `${SERVER[6]}/48`, 'dev', `${link}s`, 'nodad']);
    for (const address of CLIENTS) client.exec('ip', [...(address.includes(':') ? ['-6'] : []), 'addr', 'add', `${address}/${address.includes(':') ? 48 : 16}`, 'dev', `${link}c`, 'nodad']);
    for (const [ns, side] of [[server, 's'], [client, 'c']] as const) ns.exec('ip', ['link', 'set', `${link}${side}`, 'up']);
    // Neighbours resolved first, so that no datagram waits for (or is lost to) discovery.
    for (const address of CLIENTS) client.exec('ping', ['-c', '1', '-W', '5', '-I', address, address.includes(':') ? SERVER[6] : SERVER[4]]);
    backend = name === 'nftables' ? new NftablesBackend(plan, server.runner) : new IptablesBackend(plan, server.runner);
    await backend.start([], 0);
    if (name === 'nftables') {
      // A counter just before the UDP LOG rule: every packet the limit let through.
      const listed = server.exec('nft', ['-a', 'list', 'chain', 'inet', 'knockwatch', 'input']);
      const handle = /udp dport 9000 log prefix .* # handle (\d+)/.exec(listed)?.[1];
      for (const family of [4, 6] as const) {
        server.exec('nft', ['insert', 'rule', 'inet', 'knockwatch', 'input', 'handle', String(handle), family === 4 ? 'ip' : 'ip6', 'version', String(family),
          'udp', 'dport', '9000', 'counter', 'comment', `"kwv6-probe${family}"`]);
      }
    }
  }, 60_000);

  afterAll(() => {
    for (const ns of [server, client]) ns?.remove();
  });

  it('two addresses of one /64 share one budget: the burst is logged, the rest not', () => {
    expect(send(6, ['fd00:214:0:1::2', 'fd00:214:0:1::3'])).toBe(BURST);
  });

  it('addresses of two /64s have a budget each: every packet is logged', () => {
    expect(send(6, ['fd00:214:0:2::2', 'fd00:214:0:3::2'])).toBe(2 * PER_SOURCE);
  });

  it('IPv4 stays per address: two addresses of one /24 have a budget each', () => {
    expect(send(4, ['10.214.1.2', '10.214.1.3'])).toBe(2 * PER_SOURCE);
  });

  it('holds each /64 once in the limit\'s table, and verify holds with them there', async () => {
    if (name === 'nftables') {
      // The probe counters are the test's own: gone, the table is as installed.
      const listed = server.exec('nft', ['-a', 'list', 'chain', 'inet', 'knockwatch', 'input']);
      for (const [, handle] of listed.matchAll(/kwv6-probe\d" # handle (\d+)/g)) server.exec('nft', ['delete', 'rule', 'inet', 'knockwatch', 'input', 'handle', String(handle)]);
    }
    expect(sources6()).toEqual(['fd00:214:0:1::', 'fd00:214:0:2::', 'fd00:214:0:3::']);
    expect(await backend.verify([], 0, [])).toBe(true);
  });

  // nftables only (iptables' tables are the kernel's, kept by name): defined for it alone, so
  // that a run with every prerequisite skips nothing.
  if (name !== 'nftables') return;

  // A reinstall (a window turn, a repair) keeps the budgets: the set is what the plan declares.
  it('a reinstall keeps the /64 budgets', async () => {
    await backend.start([], 0);
    expect(sources6()).toEqual(['fd00:214:0:1::', 'fd00:214:0:2::', 'fd00:214:0:3::']);
    expect(await backend.verify([], 0, [])).toBe(true);
  });

  // The table an older knockwatch installed: loglimit6 keyed per address, its comment without
  // the key. Its elements are single addresses, so it is made anew; loglimit4 stays.
  it('a loglimit6 set keyed per address, as installed before, is made anew', async () => {
    server.exec('nft', ['delete', 'table', 'inet', 'knockwatch']);
    const before = buildNftRuleset(plan, [], 0)
      .replaceAll('ip6 saddr and ffff:ffff:ffff:ffff:: limit', 'ip6 saddr limit')
      .replace('knockwatch:ip6 saddr and ffff:ffff:ffff:ffff:: limit', 'knockwatch:limit');
    await runOrThrow(server.runner, 'nft', ['-f', '-'], { input: before });
    server.exec('nft', ['add', 'element', 'inet', 'knockwatch', 'loglimit6', '{ fd00:214:0:1::2 }']);
    server.exec('nft', ['add', 'element', 'inet', 'knockwatch', 'loglimit4', '{ 10.214.1.2 }']);
    await backend.start([], 0);
    expect(sources6()).toEqual([]);
    expect(server.exec('nft', ['list', 'set', 'inet', 'knockwatch', 'loglimit4'])).toContain('10.214.1.2');
    expect(await backend.verify([], 0, [])).toBe(true);
  });
});
