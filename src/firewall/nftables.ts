import type { Grant } from '../access/grant-table.js';
import type { LogLimit } from '../config/types.js';
import { addressFamily } from '../net/address.js';
import { closeEach, type Ban, type FirewallBackend } from './backend.js';
import { execaRunner, runOrThrow, type CommandRunner } from './command-runner.js';
import { findProgram } from './find-program.js';
import { removeIptables } from './iptables.js';
import { NftProcessChannel, runnerNftChannel, type NftChannel } from './nft-channel.js';
import { matchesEntries, type ExpectedEntry } from './match-entries.js';
import { readNftContent, type NftContent } from './nft-content.js';
import { formatNftTimeout } from './nft-timeout.js';
import { LOG_LIMIT_PREFIX, LOG_LIMIT_SOURCES, logLimitIdle } from './log-limit.js';
import { echoLengths, fixedPlan, planAt, shownPlan, type FirewallPlan } from './plan.js';

const TABLE = 'inet knockwatch';
// Addresses (with a port each) a max_connections set keeps counts for.
const CONNLIMIT_SOURCES = 65_535;
const LIST = ['list', 'table', 'inet', 'knockwatch'];

// `table inet knockwatch`: the gate is a drop in knockwatch's own chain (an accept in one
// table cannot override a drop in another); grants are set elements with timeouts, so the
// kernel ends them even if knockwatch is dead.
export class NftablesBackend implements FirewallBackend {
  readonly name = 'nftables';
  readonly runsCommands = false;
  // The structure read back right after start(): what verify() compares against.
  private installed: string | undefined;
  // Where open, extend, close, ban and unban go: one long-running nft with the real runner,
  // one `nft -f -` per change through any other (tests, namespaces), unless one is given.
  private readonly channel: NftChannel;

  constructor(
    private plan_: FirewallPlan,
    private readonly runner: CommandRunner,
    private readonly nft = 'nft',
    channel?: NftChannel,
  ) {
    this.channel = channel ?? (runner === execaRunner ? new NftProcessChannel({ command: [nft, '-i'] }) : runnerNftChannel(runner, nft));
  }

  repairHint(): string {
    return 'Check that "nft list ruleset" works and nothing else removes knockwatch\'s rules, then reload knockwatch.';
  }

  async probe(): Promise<string | undefined> {
    if (findProgram(this.nft) === undefined) return `${this.nft} is not installed; install the nftables package, or set firewall = iptables.`;
    const listed = await this.runner.run(this.nft, ['-j', 'list', 'tables']);
    if (listed.failed) return `${this.nft} -j list tables failed (${listed.reason}); run knockwatch as root (it needs CAP_NET_ADMIN) with an nft that has JSON support.`;
    return undefined;
  }

  plan(grants: readonly Grant[], now: number, bans: readonly Ban[] = [], hideTurning = false): string {
    return buildNftRuleset(shownPlan(this.plan_, now, hideTurning), grants, now, bans);
  }

  logLimitRules(at?: number): { family: 4 | 6; rule: string }[] {
    return nftLogLimitRules(at === undefined ? fixedPlan(this.plan_) : planAt(this.plan_, at));
  }

  async start(grants: readonly Grant[], now: number, bans: readonly Ban[] = []): Promise<void> {
    this.installed = undefined;
    // Turning doors' knock ports as of now: a window turn is a start() like any other.
    this.plan_ = planAt(this.plan_, now);
    // One transaction: the old table's content (if any) goes and the new one comes at once.
    // Limit sets found intact stay, with the budgets and counts in their elements: a window
    // turn or a repair must not hand every source a fresh LOG budget or max_connections count.
    const keeping = keptLimitSets(await this.readContent(), this.plan_);
    let ruleset = buildNftRuleset(this.plan_, grants, now, bans, keeping);
    try {
      await runOrThrow(this.runner, this.nft, ['-f', '-'], { input: ruleset });
    } catch (error) {
      // The table changed since it was read: replaced whole, as when nothing is kept.
      if (keeping === undefined) throw error;
      ruleset = buildNftRuleset(this.plan_, grants, now, bans);
      await runOrThrow(this.runner, this.nft, ['-f', '-'], { input: ruleset });
    }
    // What verify compares with later, trusted only when every rule and the whitelist are
    // there: someone deleting a rule right after the install must not become the reference.
    const content = await this.readContent();
    const complete = content !== undefined && content.rules === countRules(ruleset)
      && !(this.plan_.whitelist4.length > 0 && content.emptySets.has('whitelist4'))
      && !(this.plan_.whitelist6.length > 0 && content.emptySets.has('whitelist6'));
    this.installed = complete ? content.structure : undefined;
    // Log-only (firewall = command): nothing ever goes through the channel.
    if (!this.plan_.logOnly) this.channel.warm?.();
  }

  async ban(ban: Ban, now: number): Promise<void> {
    if (this.plan_.logOnly) return;
    const set = `banned${addressFamily(ban.src)}`;
    await this.script([
      `add element ${TABLE} ${set} { ${ban.src} }`,
      `delete element ${TABLE} ${set} { ${ban.src} }`,
      `add element ${TABLE} ${set} { ${element(ban.src, ban.until, now)} }`,
    ]);
  }

  async unban(src: string): Promise<void> {
    if (this.plan_.logOnly) return;
    const set = `banned${addressFamily(src)}`;
    await this.script([`add element ${TABLE} ${set} { ${src} }`, `delete element ${TABLE} ${set} { ${src} }`]);
  }

  async open(grant: Grant, now: number): Promise<void> {
    const set = this.setFor(grant);
    if (set === undefined) return;
    await this.script([`add element ${TABLE} ${set} { ${element(grant.src, grant.expires, now)} }`]);
  }

  async extend(grant: Grant, now: number): Promise<void> {
    const set = this.setFor(grant);
    if (set === undefined) return;
    // add (in case the kernel already expired it), delete, add with the new timeout: one transaction.
    await this.script([
      `add element ${TABLE} ${set} { ${grant.src} }`,
      `delete element ${TABLE} ${set} { ${grant.src} }`,
      `add element ${TABLE} ${set} { ${element(grant.src, grant.expires, now)} }`,
    ]);
  }

  async close(grant: Grant): Promise<void> {
    const set = this.setFor(grant);
    if (set === undefined) return;
    // Add first so the delete cannot fail on an element the kernel already expired.
    await this.script([`add element ${TABLE} ${set} { ${grant.src} }`, `delete element ${TABLE} ${set} { ${grant.src} }`]);
  }

  // A grant with a lifetime has it as its element's timeout in the kernel; a grant until
  // closed (open_for = 0) has none, and nothing would end it once the daemon is gone.
  endsItself(grant: Grant): boolean {
    return Number.isFinite(grant.expires);
  }

  // The gate and the whitelist stay; grants that do not end by themselves are closed, as
  // iptables closes every grant.
  async stop(grants: readonly Grant[]): Promise<void> {
    try {
      await closeEach(grants.filter((grant) => !this.endsItself(grant)), (grant) => this.close(grant));
    } finally {
      await this.release();
    }
  }

  async release(): Promise<void> {
    await this.channel.stop();
  }

  // verify() only reads here.
  async check(grants: readonly Grant[], now: number, bans: readonly Ban[]): Promise<boolean> {
    return await this.verify(grants, now, bans);
  }

  async verify(grants?: readonly Grant[], now?: number, bans: readonly Ban[] = []): Promise<boolean> {
    if (this.installed === undefined) return false;
    const content = await this.readContent();
    if (content === undefined || content.structure !== this.installed) return false;
    if (grants === undefined || now === undefined) return true;
    return [...expectedEntries(this.plan_, grants, bans)].every(([set, expected]) =>
      matchesEntries(content.elements.get(set) ?? new Set(), expected, now));
  }

  async exists(): Promise<boolean> {
    return !(await this.runner.run(this.nft, LIST)).failed;
  }

  async remove(_grants: readonly Grant[] = []): Promise<void> {
    this.installed = undefined;
    await this.channel.stop();
    await flushNftables(this.runner, this.nft);
  }

  async removeOtherKind(): Promise<string | undefined> {
    return await removeIptables(this.runner);
  }

  private async readContent(): Promise<ReturnType<typeof readNftContent>> {
    const listed = await this.runner.run(this.nft, ['-j', ...LIST]);
    return listed.failed ? undefined : readNftContent(listed.stdout);
  }

  private setFor(grant: Grant): string | undefined {
    const gate = this.plan_.gates.find((candidate) => candidate.door === grant.door);
    return gate === undefined ? undefined : setName(gate.index, addressFamily(grant.src));
  }

  private async script(lines: string[]): Promise<void> {
    await this.channel.send(lines);
  }
}

// What `knockwatch flush`, and a start with firewall = iptables, take away of nftables: the
// table, when nft is here and the table is. Says what went; undefined for nothing.
export async function removeNftables(runner: CommandRunner, locate: (program: string) => string | undefined = findProgram): Promise<string | undefined> {
  if (locate('nft') === undefined) return undefined;
  return await flushNftables(runner) ? 'nftables table inet knockwatch' : undefined;
}

export async function flushNftables(runner: CommandRunner, nft = 'nft'): Promise<boolean> {
  const listed = await runner.run(nft, LIST);
  if (listed.failed) return false;
  await runOrThrow(runner, nft, ['delete', 'table', 'inet', 'knockwatch']);
  return true;
}

// The addresses each grant and ban set must hold.
function expectedEntries(plan: FirewallPlan, grants: readonly Grant[], bans: readonly Ban[]): Map<string, ExpectedEntry[]> {
  const sets = new Map<string, ExpectedEntry[]>();
  if (plan.logOnly) return sets;
  for (const family of [4, 6] as const) {
    sets.set(`banned${family}`, bans.filter((ban) => addressFamily(ban.src) === family).map((ban) => ({ key: ban.src, until: ban.until })));
    for (const gate of plan.gates) {
      const mine = grants.filter((grant) => grant.door === gate.door && addressFamily(grant.src) === family);
      sets.set(setName(gate.index, family), mine.map((grant) => ({ key: grant.src, until: grant.expires })));
    }
  }
  return sets;
}

// The sets whose elements are the kernel's running state: max_connections' counts per
// granted address and port, and the per-source LOG budgets.
interface LimitSet {
  name: string;
  type: readonly string[];
  size: number;
  // Seconds an idle element is kept; undefined: no timeout.
  timeout: number | undefined;
  // The key and limit each element holds, made from the rule that added it: a set whose
  // comment differs holds elements keyed or limited otherwise, and is made anew.
  comment: string;
}

function limitSets(plan: FirewallPlan): LimitSet[] {
  const sets: LimitSet[] = [];
  for (const gate of plan.gates) {
    if (gate.maxConnections === undefined) continue;
    const comment = `knockwatch:${connLimit(gate.maxConnections)}`;
    for (const family of [4, 6] as const) sets.push({ name: `connlimit${family}_${gate.index}`, type: [`ipv${family}_addr`, 'inet_service'], size: CONNLIMIT_SOURCES, timeout: undefined, comment });
  }
  if (plan.logLimit !== undefined) {
    for (const family of [4, 6] as const) {
      const comment = `knockwatch:${logLimitKey(family)} ${logLimit(plan.logLimit)}`;
      sets.push({ name: `loglimit${family}`, type: [`ipv${family}_addr`], size: LOG_LIMIT_SOURCES, timeout: logLimitIdle(plan.logLimit), comment });
    }
  }
  return sets;
}

function declareLimitSet(set: LimitSet): string {
  const timeout = set.timeout === undefined ? '' : ` timeout ${set.timeout}s;`;
  return `  set ${set.name} { type ${set.type.join(' . ')}; size ${set.size}; flags dynamic${set.timeout === undefined ? '' : ',timeout'};${timeout} comment "${set.comment}"; }`;
}

// Whether a listed set is `set` as the plan declares it (nft lists `dynamic` or not by version).
function isIntact(set: LimitSet, listed: Record<string, unknown> | undefined): boolean {
  if (listed === undefined) return false;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
  const flags = list(listed.flags).filter((flag) => flag !== 'dynamic');
  return JSON.stringify(list(listed.type)) === JSON.stringify(set.type) && listed.size === set.size && listed.timeout === set.timeout && listed.comment === set.comment
    && JSON.stringify(flags) === JSON.stringify(set.timeout === undefined ? [] : ['timeout']);
}

// What a reinstall may leave in place: the limit sets listed as the plan declares them, when
// the table holds nothing but sets and chains. undefined: nothing (the table goes whole).
export interface KeptSets {
  kept: ReadonlySet<string>;
  // Everything else in the table now, to go in the same transaction.
  sets: readonly string[];
  chains: readonly string[];
}

function keptLimitSets(content: NftContent | undefined, plan: FirewallPlan): KeptSets | undefined {
  if (content === undefined || content.foreign) return undefined;
  const kept = new Set(limitSets(plan).filter((set) => isIntact(set, content.sets.get(set.name))).map((set) => set.name));
  if (kept.size === 0) return undefined;
  return { kept, sets: [...content.sets.keys()].filter((name) => !kept.has(name)), chains: content.chains };
}

// `keeping`: the table stays and only what is not kept goes (chains flushed first, so that no
// rule still refers to a set or chain being deleted); otherwise the whole table is replaced.
export function buildNftRuleset(plan: FirewallPlan, grants: readonly Grant[], now: number, bans: readonly Ban[] = [], keeping?: KeptSets): string {
  const replace = keeping === undefined ? [`table ${TABLE}`, `delete table ${TABLE}`] : [
    ...keeping.chains.map((chain) => `flush chain ${TABLE} ${chain}`),
    ...keeping.chains.map((chain) => `delete chain ${TABLE} ${chain}`),
    ...keeping.sets.map((set) => `delete set ${TABLE} ${set}`),
  ];
  const out: string[] = [
    '# knockwatch: everything in this table is knockwatch\'s own',
    ...replace,
    `table ${TABLE} {`,
  ];
  const elements = (items: readonly string[]): string => (items.length > 0 ? ` elements = { ${items.join(', ')} };` : '');
  if (!plan.logOnly) {
    out.push(`  set whitelist4 { type ipv4_addr; flags interval;${elements(plan.whitelist4.map((n) => n.text))} }`);
    out.push(`  set whitelist6 { type ipv6_addr; flags interval;${elements(plan.whitelist6.map((n) => n.text))} }`);
    for (const family of [4, 6] as const) {
      const live = bans.filter((ban) => addressFamily(ban.src) === family && ban.until > now);
      out.push(`  set banned${family} { type ipv${family}_addr; flags timeout;${elements(live.map((ban) => element(ban.src, ban.until, now)))} }`);
    }
  }
  for (const gate of plan.gates) {
    for (const family of [4, 6] as const) {
      const live = grants.filter((grant) => grant.door === gate.door && addressFamily(grant.src) === family && grant.expires > now);
      out.push(`  set ${setName(gate.index, family)} { type ipv${family}_addr; flags timeout; comment "knockwatch:${gate.door}";${elements(live.map((grant) => element(grant.src, grant.expires, now)))} }`);
    }
  }
  // max_connections: the kernel counts each granted address's connections per port (conncount).
  // A kept set's declaration is the set as it is: nft changes nothing then.
  out.push(...limitSets(plan).map(declareLimitSet));
  out.push('  chain input {');
  out.push('    type filter hook input priority filter - 10; policy accept;');
  out.push('    ct state established,related accept comment "knockwatch:established"');
  out.push('    iifname "lo" accept comment "knockwatch:loopback"');
  // The whitelist wins: its accepts come before the ban drops.
  for (const proto of ['tcp', 'udp'] as const) {
    const ports = plan.protectedPorts.filter((step) => step.proto === proto).map((step) => step.port);
    if (ports.length === 0) continue;
    out.push(`    ip saddr @whitelist4 ${proto} dport ${portSet(ports)} accept comment "knockwatch:whitelist"`);
    out.push(`    ip6 saddr @whitelist6 ${proto} dport ${portSet(ports)} accept comment "knockwatch:whitelist"`);
  }
  if (!plan.logOnly) {
    out.push('    ip saddr @banned4 drop comment "knockwatch:ban"');
    out.push('    ip6 saddr @banned6 drop comment "knockwatch:ban"');
  }
  const verdict = plan.logOnly ? '' : ' drop';
  for (const proto of ['tcp', 'udp'] as const) {
    const ports = plan.knockPorts.filter((entry) => entry.step.proto === proto).map((entry) => entry.step.port);
    if (ports.length === 0) continue;
    for (const family of [4, 6] as const) {
      const rule = logLimitRule(plan, `${proto} dport ${portSet(ports)}`, family);
      if (rule !== undefined) out.push(`    ${rule}`);
    }
    out.push(`    ${proto} dport ${portSet(ports)} log prefix "${plan.logPrefix} "${verdict} comment "knockwatch:knock"`);
  }
  for (const family of [4, 6] as const) {
    const match = echoMatch(plan, family);
    if (match === undefined) continue;
    const rule = logLimitRule(plan, match, family);
    if (rule !== undefined) out.push(`    ${rule}`);
    out.push(`    ${match} log prefix "${plan.logPrefix} "${verdict} comment "knockwatch:knock"`);
  }
  for (const gate of plan.gates) {
    for (const proto of ['tcp', 'udp'] as const) {
      const ports = gate.ports.filter((step) => step.proto === proto).map((step) => step.port);
      if (ports.length === 0) continue;
      for (const family of [4, 6] as const) {
        const match = `${family === 4 ? 'ip' : 'ip6'} saddr @${setName(gate.index, family)} ${proto} dport ${portSet(ports)}`;
        // A connection past max_connections is dropped before the accept; the count is per port.
        if (gate.maxConnections !== undefined) {
          out.push(`    ${match} add @connlimit${family}_${gate.index} { ${family === 4 ? 'ip' : 'ip6'} saddr . ${proto} dport ${connLimit(gate.maxConnections)} } drop comment "knockwatch:${gate.door}"`);
        }
        out.push(`    ${match} accept comment "knockwatch:${gate.door}"`);
      }
    }
  }
  for (const proto of ['tcp', 'udp'] as const) {
    const ports = plan.protectedPorts.filter((step) => step.proto === proto).map((step) => step.port);
    if (ports.length > 0) out.push(`    ${proto} dport ${portSet(ports)} drop comment "knockwatch:gate"`);
  }
  out.push('  }', '}');
  return `${out.join('\n')}\n`;
}

// The LOG limit per source, per family: a packet over its source's limit is dropped (in
// log-only mode: passed on) without a LOG line. A source the full set cannot take is not
// limited: the rule does not match and its packet is logged as before.
function logLimitRule(plan: FirewallPlan, match: string, family: 4 | 6): string | undefined {
  if (plan.logLimit === undefined) return undefined;
  const over = plan.logOnly ? 'return' : 'drop';
  return `${match} update @loglimit${family} { ${logLimitKey(family)} ${logLimit(plan.logLimit)} } ${over} comment "knockwatch:log-limit"`;
}

// What a LOG limit set's elements are: the source address, IPv6 masked to its first
// LOG_LIMIT_PREFIX bits (ip6 saddr and ffff:ffff:ffff:ffff::).
function logLimitKey(family: 4 | 6): string {
  if (family === 4) return 'ip saddr';
  const groups = LOG_LIMIT_PREFIX[6] / 16;
  return `ip6 saddr and ${Array<string>(groups).fill('ffff').join(':')}::`;
}

// The statements each limit set's elements hold.
function logLimit({ rate, burst }: LogLimit): string {
  return `limit rate over ${rate}/second burst ${burst} packets`;
}

function connLimit(maxConnections: number): string {
  return `ct count over ${maxConnections}`;
}

// The log-limit rules as installed, per family, for `check`.
export function nftLogLimitRules(plan: FirewallPlan): { family: 4 | 6; rule: string }[] {
  const rules: { family: 4 | 6; rule: string }[] = [];
  for (const family of [4, 6] as const) {
    for (const proto of ['tcp', 'udp'] as const) {
      const ports = plan.knockPorts.filter((entry) => entry.step.proto === proto).map((entry) => entry.step.port);
      const rule = ports.length === 0 ? undefined : logLimitRule(plan, `${proto} dport ${portSet(ports)}`, family);
      if (rule !== undefined) rules.push({ family, rule });
    }
    const echo = echoMatch(plan, family);
    const rule = echo === undefined ? undefined : logLimitRule(plan, echo, family);
    if (rule !== undefined) rules.push({ family, rule });
  }
  return rules;
}

// The echo requests of the `icmp:N` steps: nft's `ip6 length` is the IPv6 payload length,
// 40 bytes short of the kernel's LEN= that N names (`ip length` is the whole IPv4 packet).
function echoMatch(plan: FirewallPlan, family: 4 | 6): string | undefined {
  const lengths = echoLengths(plan, family);
  if (lengths.length === 0) return undefined;
  return family === 4
    ? `icmp type echo-request ip length ${portSet(lengths)}`
    : `icmpv6 type echo-request ip6 length ${portSet(lengths.map((length) => length - 40))}`;
}

function countRules(ruleset: string): number {
  return ruleset.split('\n').filter((line) => /^ {4}\S/.test(line) && !line.trimStart().startsWith('type ')).length;
}

function setName(index: number, family: 4 | 6): string {
  return `grant${family}_${index}`;
}

function portSet(ports: readonly number[]): string {
  return ports.length === 1 ? String(ports[0]) : `{ ${ports.join(', ')} }`;
}

// A set element: the address, with its remaining lifetime unless it lasts until closed.
function element(src: string, expires: number, now: number): string {
  if (!Number.isFinite(expires)) return src;
  return `${src} timeout ${formatNftTimeout(Math.max(1000, expires - now))}`;
}
