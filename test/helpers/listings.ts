import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Grant } from '../../src/access/grant-table.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { NftablesBackend } from '../../src/firewall/nftables.js';
import type { FirewallPlan } from '../../src/firewall/plan.js';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { recorder } from './recorder.js';

// A listing real nft or iptables printed, kept in test/firewall/fixtures.
export function fixture(name: string): string {
  return readFileSync(join(packageRoot(), 'test/firewall/fixtures', name), 'utf8');
}

// What verify(grants) says when start() read `installed` back and verify then reads `now`.
export async function nftVerifyAfter(plan: FirewallPlan, installed: string, now: string, grants: readonly Grant[] = []): Promise<boolean> {
  let started = false;
  const { runner } = recorder((line) => (line.startsWith('nft -j list table') ? { stdout: started ? now : installed } : undefined));
  const backend = new NftablesBackend(plan, runner, 'nft', { send: async () => {}, stop: async () => {} });
  await backend.start(grants, 0);
  started = true;
  return await backend.verify(grants, 0, []);
}

// The same with iptables: start() reads `listed` back per family, verify then reads `now` for IPv4.
export async function iptablesVerifyAfter(plan: FirewallPlan, listed: Record<4 | 6, string>, now: string, grants: readonly Grant[] = []): Promise<boolean> {
  let listings = 0;
  const { runner } = recorder((line) => {
    if (line.startsWith('ip6tables -w -S KNOCKWATCH')) return { stdout: listed[6] };
    if (line.startsWith('iptables -w -S KNOCKWATCH')) return { stdout: listings++ === 0 ? listed[4] : now };
    return undefined;
  });
  const channel = { send: async () => {}, stop: async () => {}, installed: () => {} };
  const backend = new IptablesBackend(plan, runner, () => '/usr/sbin/iptables', { 4: channel, 6: channel });
  await backend.start(grants, 0);
  return await backend.verify(grants, 0, []);
}
