import type { DoorStep } from '../config/types.js';
import type { Grant } from '../access/grant-table.js';
import { addressFamily, type AddressFamily } from '../net/address.js';
import { closeEach, type Ban, type FirewallBackend } from './backend.js';
import { execaRunner, runOrThrow, type CommandRunner } from './command-runner.js';
import { findProgram } from './find-program.js';
import { removeNftables } from './nftables.js';
import { quoteRestore, RestoreProcessChannel, runnerIptablesChannel, type IptablesChannel, type RuleChange } from './iptables-channel.js';
import { canWatchRestore } from './restore-process.js';
import { banKey, grantKey, readIptablesContent } from './iptables-content.js';
import { matchesEntries } from './match-entries.js';
import { LOG_LIMIT_PREFIX, LOG_LIMIT_SOURCES, logLimitIdle } from './log-limit.js';
import { echoFits, fixedPlan, planAt, shownPlan, type FirewallPlan } from './plan.js';

const CHAIN = 'KNOCKWATCH';
const TOOLS: Record<AddressFamily, { cli: string; restore: string }> = {
  4: { cli: 'iptables', restore: 'iptables-restore' },
  6: { cli: 'ip6tables', restore: 'ip6tables-restore' },
};

// Chain KNOCKWATCH in the filter table, jumped to from the top of INPUT, for IPv4 and IPv6.
// Every rule carries `-m comment --comment knockwatch:<door>`; the chain is replaced in one
// iptables-restore transaction, so it is never half-installed.
export class IptablesBackend implements FirewallBackend {
  readonly name = 'iptables';
  readonly runsCommands = false;

  // No rule expires in iptables: a clean stop closes every grant.
  endsItself(): boolean {
    return false;
  }

  // Per family, the structure read back right after start(): what verify() compares against.
  private installed = new Map<AddressFamily, string>();
  // Where grants and bans go, per family: one long-running iptables-restore with the real
  // runner, `iptables -C` then `-I`/`-D` through any other (tests, namespaces), unless given.
  private readonly channels: Record<AddressFamily, IptablesChannel>;

  constructor(
    private plan_: FirewallPlan,
    private readonly runner: CommandRunner,
    private readonly locate: (program: string) => string | undefined = findProgram,
    channels?: Record<AddressFamily, IptablesChannel>,
  ) {
    const long = runner === execaRunner && canWatchRestore();
    const channelFor = (family: AddressFamily): IptablesChannel => (long
      ? new RestoreProcessChannel({ chain: CHAIN, command: [TOOLS[family].restore, '--noflush', '-w'], readInstalled: () => this.readEntries(family) })
      : runnerIptablesChannel(runner, TOOLS[family].cli, CHAIN));
    this.channels = channels ?? { 4: channelFor(4), 6: channelFor(6) };
  }

  repairHint(): string {
    return 'Check that "iptables -S" works and nothing else removes knockwatch\'s rules, then reload knockwatch.';
  }

  async probe(): Promise<string | undefined> {
    const missing = [4, 6].flatMap((family) => Object.values(TOOLS[family as AddressFamily])).filter((tool) => this.locate(tool) === undefined);
    if (missing.length > 0) return `${missing.join(', ')} not found; install the iptables package, or set firewall = nftables.`;
    for (const family of [4, 6] as const) {
      const listed = await this.runner.run(TOOLS[family].cli, ['-w', '-S', 'INPUT']);
      if (listed.failed) return `${TOOLS[family].cli} -w -S INPUT failed (${listed.reason}); run knockwatch as root (it needs CAP_NET_ADMIN).`;
    }
    return undefined;
  }

  plan(grants: readonly Grant[], now: number, bans: readonly Ban[] = [], hideTurning = false): string {
    const shown = shownPlan(this.plan_, now, hideTurning);
    return ([4, 6] as const)
      .map((family) => `# ${TOOLS[family].restore} --noflush -w\n${buildRestoreScript(shown, family, grants, bans)}` +
        `# then, unless present: ${TOOLS[family].cli} -w -I INPUT 1 ${jumpRule().join(' ')}\n`)
      .join('\n');
  }

  logLimitRules(at?: number): { family: AddressFamily; rule: string }[] {
    return iptablesLogLimitRules(at === undefined ? fixedPlan(this.plan_) : planAt(this.plan_, at));
  }

  async start(grants: readonly Grant[], now: number, bans: readonly Ban[] = []): Promise<void> {
    const before = this.plan_;
    // A window turn with everything in place changes the knock rules alone: rewriting the
    // chain would make each grant rule anew, and a new connlimit match counts from zero (the
    // LOG limit's hashlimit table is shared by name and outlives a rewrite). A repair
    // rewrites the chain, and with it those counts.
    const turning = this.installed.size === 2 && await this.compare(grants, now, bans, false);
    this.installed.clear();
    // Turning doors' knock ports as of now: a window turn is a start() like any other.
    this.plan_ = planAt(this.plan_, now);
    for (const family of [4, 6] as const) {
      const tools = TOOLS[family];
      if (turning) {
        // Nothing turned in this family, or the turn went in (the INPUT jump was just checked).
        const turn = buildTurnScript(before, this.plan_, family);
        if (turn === undefined || await this.tryRestore(family, turn)) continue;
      }
      await runOrThrow(this.runner, tools.restore, ['--noflush', '-w'], { input: buildRestoreScript(this.plan_, family, grants, bans) });
      const present = await this.runner.run(tools.cli, ['-w', '-C', 'INPUT', ...jumpRule()]);
      if (present.failed) await runOrThrow(this.runner, tools.cli, ['-w', '-I', 'INPUT', '1', ...jumpRule()]);
    }
    for (const family of [4, 6] as const) {
      const listed = await this.runner.run(TOOLS[family].cli, ['-w', '-S', CHAIN]);
      const content = listed.failed ? undefined : readIptablesContent(listed.stdout);
      this.channels[family].installed(content?.entries);
      const structure = content?.structure ?? [];
      // Trusted as the reference only when every rule is there (-N line plus the rules).
      const expected = buildRestoreScript(this.plan_, family, [], []).split('\n').filter((line) => line.startsWith(`-A ${CHAIN} `)).length + 1;
      if (structure.length === expected) this.installed.set(family, structure.join('\n'));
      // Log-only (firewall = command): nothing ever goes through the channel.
      if (!this.plan_.logOnly) this.channels[family].warm?.();
    }
  }

  async open(grant: Grant): Promise<void> {
    if (this.plan_.logOnly) return;
    const family = addressFamily(grant.src);
    const insertAt = entryPosition(this.plan_, family);
    await this.channels[family].send(grantChanges(this.plan_, grant).map((change) => ({ ...change, insertAt })));
  }

  async extend(): Promise<void> {
    // The rule stays; the daemon removes it when the later expiry comes.
  }

  async ban(ban: Ban): Promise<void> {
    if (this.plan_.logOnly) return;
    const family = addressFamily(ban.src);
    await this.channels[family].send([{ ...banChange(ban.src), insertAt: entryPosition(this.plan_, family) }]);
  }

  async unban(src: string): Promise<void> {
    if (this.plan_.logOnly) return;
    // A rule already gone is unbanned, not an error.
    await this.channels[addressFamily(src)].send([banChange(src)]);
  }

  async close(grant: Grant): Promise<void> {
    // A rule already gone is closed, not an error.
    await this.channels[addressFamily(grant.src)].send(grantChanges(this.plan_, grant));
  }

  async stop(grants: readonly Grant[]): Promise<void> {
    // Rules do not expire by themselves: grants end with the daemon; gate and whitelist stay.
    try {
      await closeEach(grants, (grant) => this.close(grant));
    } finally {
      await this.release();
    }
  }

  async release(): Promise<void> {
    await Promise.all([this.channels[4].stop(), this.channels[6].stop()]);
  }

  async verify(grants?: readonly Grant[], now?: number, bans: readonly Ban[] = []): Promise<boolean> {
    return await this.compare(grants, now, bans, true);
  }

  async check(grants: readonly Grant[], now: number, bans: readonly Ban[]): Promise<boolean> {
    return await this.compare(grants, now, bans, false);
  }

  // `resync`: the channels go by what is read (only while no change is being applied).
  private async compare(grants: readonly Grant[] | undefined, now: number | undefined, bans: readonly Ban[], resync: boolean): Promise<boolean> {
    for (const family of [4, 6] as const) {
      const installed = this.installed.get(family);
      if (installed === undefined) return false;
      const cli = TOOLS[family].cli;
      const listed = await this.runner.run(cli, ['-w', '-S', CHAIN]);
      if (listed.failed) return false;
      const content = readIptablesContent(listed.stdout);
      // What is there now is what the channel goes by, whatever the outcome.
      if (resync) this.channels[family].installed(content.entries);
      if (content.structure.join('\n') !== installed) return false;
      if (grants !== undefined && now !== undefined && !matchesEntries(content.entries, expectedEntries(this.plan_, family, grants, bans), now)) return false;
      if ((await this.runner.run(cli, ['-w', '-C', 'INPUT', ...jumpRule()])).failed) return false;
    }
    return true;
  }

  async exists(): Promise<boolean> {
    for (const family of [4, 6] as const) {
      if (!(await this.runner.run(TOOLS[family].cli, ['-w', '-S', CHAIN])).failed) return true;
    }
    return false;
  }

  async remove(_grants: readonly Grant[] = []): Promise<void> {
    this.installed.clear();
    await this.release();
    for (const family of [4, 6] as const) this.channels[family].installed(undefined);
    await flushIptables(this.runner);
  }

  async removeOtherKind(): Promise<string | undefined> {
    return await removeNftables(this.runner, this.locate);
  }

  // Whether `script` went in; one that does not (the chain changed meanwhile) changed nothing.
  private async tryRestore(family: AddressFamily, script: string): Promise<boolean> {
    return !(await this.runner.run(TOOLS[family].restore, ['--noflush', '-w'], { input: script })).failed;
  }

  // The keys of the grant and ban rules in the chain now.
  private async readEntries(family: AddressFamily): Promise<Set<string>> {
    const listed = await runOrThrow(this.runner, TOOLS[family].cli, ['-w', '-S', CHAIN]);
    return readIptablesContent(listed.stdout).entries;
  }
}

// What `knockwatch flush`, and a start with firewall = nftables, take away of iptables: the
// chains and their INPUT jumps, when iptables is here and a chain is. Says what went;
// undefined for nothing.
export async function removeIptables(runner: CommandRunner, locate: (program: string) => string | undefined = findProgram): Promise<string | undefined> {
  if (locate('iptables') === undefined) return undefined;
  return await flushIptables(runner) ? 'iptables/ip6tables chain KNOCKWATCH' : undefined;
}

export async function flushIptables(runner: CommandRunner): Promise<boolean> {
  let found = false;
  for (const family of [4, 6] as const) {
    const cli = TOOLS[family].cli;
    const listed = await runner.run(cli, ['-w', '-S', CHAIN]);
    if (listed.failed) continue;
    found = true;
    for (let i = 0; i < 100; i++) {
      const removed = await runner.run(cli, ['-w', '-D', 'INPUT', ...jumpRule()]);
      if (removed.failed) break;
    }
    await runOrThrow(runner, cli, ['-w', '-F', CHAIN]);
    await runOrThrow(runner, cli, ['-w', '-X', CHAIN]);
  }
  return found;
}

// Grant and ban rules go right after established, loopback and the whitelist: the
// whitelist wins over a ban.
function entryPosition(plan: FirewallPlan, family: AddressFamily): number {
  const whitelist = family === 4 ? plan.whitelist4 : plan.whitelist6;
  return 3 + whitelist.length * plan.protectedPorts.length;
}

function expectedEntries(plan: FirewallPlan, family: AddressFamily, grants: readonly Grant[], bans: readonly Ban[]): { key: string; until: number }[] {
  const entries = bans.filter((ban) => addressFamily(ban.src) === family).map((ban) => ({ key: banKey(ban.src), until: ban.until }));
  for (const grant of grants) {
    if (addressFamily(grant.src) !== family) continue;
    for (const change of grantChanges(plan, grant)) entries.push({ key: change.key, until: Infinity });
  }
  return entries;
}

function jumpRule(): string[] {
  return ['-m', 'comment', '--comment', 'knockwatch', '-j', CHAIN];
}

function portMatch(step: DoorStep): string[] {
  return ['-p', step.proto, '-m', step.proto, '--dport', String(step.port)];
}

// Knock ports in runs: consecutive ports of one protocol for the same doors are one rule
// (`--dport A:B`), so a bind_source door's whole range is a handful of rules, not one per port.
interface KnockRun {
  step: DoorStep;
  // The run's last port (step.port when it is one port).
  last: number;
  doors: readonly string[];
}

function knockRuns(plan: FirewallPlan): KnockRun[] {
  const runs: KnockRun[] = [];
  // The latest run per protocol and doors: knock ports come by port, TCP and UDP interleaved.
  const latest = new Map<string, KnockRun>();
  for (const { step, doors } of plan.knockPorts) {
    const key = `${step.proto} ${doors.join(',')}`;
    const run = latest.get(key);
    if (step.proto !== 'icmp' && run !== undefined && run.last === step.port - 1) {
      run.last = step.port;
      continue;
    }
    const started = { step, last: step.port, doors };
    runs.push(started);
    latest.set(key, started);
  }
  return runs;
}

// A knock run's packets in one family: its ports, or for `icmp:N` an echo request whose IP
// packet is N bytes long (-m length counts the whole packet, as the kernel's LEN= does, in
// both families); undefined where the family cannot carry it (ICMPv6 needs 48 bytes).
function knockMatch({ step, last }: KnockRun, family: AddressFamily): string[] | undefined {
  if (step.proto !== 'icmp') return ['-p', step.proto, '-m', step.proto, '--dport', last === step.port ? String(step.port) : `${step.port}:${last}`];
  if (!echoFits(step.port, family)) return undefined;
  const echo = family === 4 ? ['-p', 'icmp', '-m', 'icmp', '--icmp-type', '8'] : ['-p', 'ipv6-icmp', '-m', 'icmp6', '--icmpv6-type', '128'];
  return [...echo, '-m', 'length', '--length', String(step.port)];
}

function comment(what: string): string[] {
  return ['-m', 'comment', '--comment', `knockwatch:${what}`];
}

// New connections only: an established session of a banned address is not cut.
function banRule(src: string): string[] {
  const prefix = addressFamily(src) === 4 ? 32 : 128;
  return ['-s', `${src}/${prefix}`, '-m', 'conntrack', '--ctstate', 'NEW,INVALID', ...comment('ban'), '-j', 'DROP'];
}

// max_connections: the rule accepts only while the address has fewer connections to the
// port than the limit (connlimit counts what this rule accepted); the next one goes on to the gate's DROP.
function grantRule(grant: Grant, step: DoorStep, maxConnections: number | undefined): string[] {
  const prefix = addressFamily(grant.src) === 4 ? 32 : 128;
  const limit = maxConnections === undefined ? [] : ['-m', 'connlimit', '--connlimit-upto', String(maxConnections), '--connlimit-mask', String(prefix), '--connlimit-saddr'];
  return ['-s', `${grant.src}/${prefix}`, ...portMatch(step), ...comment(grant.door), ...limit, '-j', 'ACCEPT'];
}

// A grant's rules with the keys the chain is read back by (deletes unless given a position).
function grantChanges(plan: FirewallPlan, grant: Grant): RuleChange[] {
  const limit = maxConnectionsOf(plan, grant);
  return grant.ports.map((step) => ({ key: grantKey(grant.door, grant.src, step.port, step.proto, limit), rule: grantRule(grant, step, limit) }));
}

function maxConnectionsOf(plan: FirewallPlan, grant: Grant): number | undefined {
  return plan.gates.find((gate) => gate.door === grant.door)?.maxConnections;
}

function banChange(src: string): RuleChange {
  return { key: banKey(src), rule: banRule(src) };
}

// A knock port's LOG rule, limited per source (IPv4 address, IPv6 /64): a packet over its
// source's limit is not logged and goes on to the DROP rule (log-only: on through the chain).
// One table per family for every knock port, so a source's budget covers them all. The kernel
// keeps a table's rate, burst, mask and expiry from the first rule that named it for as long
// as any rule does, so the name carries limit and mask (knockwatch-log6-20-60-64): a reload
// or upgrade to another must get a table of its own. The name fits the kernel's 254
// characters (hashlimit revision 2 on; iptables 1.8.9 cuts a longer one short, unsaid).
function logRule(plan: FirewallPlan, family: AddressFamily, match: readonly string[], doors: readonly string[]): string[] {
  const prefix = LOG_LIMIT_PREFIX[family];
  // Where and whether iptables -S prints the mask: after the expiry, and not the whole address.
  const mask = prefix === (family === 4 ? 32 : 128) ? [] : ['--hashlimit-srcmask', String(prefix)];
  const limit = plan.logLimit === undefined ? [] : [
    '-m', 'hashlimit', '--hashlimit-upto', `${plan.logLimit.rate}/sec`, '--hashlimit-burst', String(plan.logLimit.burst),
    '--hashlimit-mode', 'srcip', '--hashlimit-name', `knockwatch-log${family}-${plan.logLimit.rate}-${plan.logLimit.burst}-${prefix}`,
    '--hashlimit-htable-max', String(LOG_LIMIT_SOURCES), '--hashlimit-htable-expire', String(logLimitIdle(plan.logLimit) * 1000), ...mask,
  ];
  return [...match, ...comment(doors.join(',')), ...limit, '-j', 'LOG', '--log-prefix', `${plan.logPrefix} `];
}

// The limited LOG rules as installed, per family, for `check`.
export function iptablesLogLimitRules(plan: FirewallPlan): { family: AddressFamily; rule: string }[] {
  if (plan.logLimit === undefined) return [];
  return ([4, 6] as const).flatMap((family) => knockRuns(plan).flatMap((run) => {
    const match = knockMatch(run, family);
    return match === undefined ? [] : [{ family, rule: `-A ${CHAIN} ${logRule(plan, family, match, run.doors).map(quoteRestore).join(' ')}` }];
  }));
}

export function buildRestoreScript(plan: FirewallPlan, family: AddressFamily, grants: readonly Grant[], bans: readonly Ban[] = []): string {
  const rules: string[][] = [
    ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...comment('established'), '-j', 'RETURN'],
    ['-i', 'lo', ...comment('loopback'), '-j', 'RETURN'],
  ];
  // The whitelist wins: its accepts come before the ban drops (see entryPosition).
  const whitelist = family === 4 ? plan.whitelist4 : plan.whitelist6;
  for (const network of whitelist) {
    for (const step of plan.protectedPorts) rules.push(['-s', network.text, ...portMatch(step), ...comment('whitelist'), '-j', 'ACCEPT']);
  }
  if (!plan.logOnly) {
    rules.push(...bans.filter((ban) => addressFamily(ban.src) === family).map((ban) => banRule(ban.src)));
    for (const grant of grants) if (addressFamily(grant.src) === family) rules.push(...grantChanges(plan, grant).map((change) => [...change.rule]));
  }
  rules.push(...knockRules(plan, family), ...gateRules(plan));
  const lines = ['*filter', `:${CHAIN} - [0:0]`, ...rules.map((rule) => `-A ${CHAIN} ${ruleText(rule)}`), 'COMMIT'];
  return `${lines.join('\n')}\n`;
}

// The LOG (and DROP) rules of the knock ports, in order.
function knockRules(plan: FirewallPlan, family: AddressFamily): string[][] {
  const rules: string[][] = [];
  for (const run of knockRuns(plan)) {
    const match = knockMatch(run, family);
    if (match === undefined) continue;
    rules.push(logRule(plan, family, match, run.doors));
    if (!plan.logOnly) rules.push([...match, ...comment(run.doors.join(',')), '-j', 'DROP']);
  }
  return rules;
}

function gateRules(plan: FirewallPlan): string[][] {
  return plan.protectedPorts.map((step) => [...portMatch(step), ...comment('gate'), '-j', 'DROP']);
}

function ruleText(rule: readonly string[]): string {
  return rule.map(quoteRestore).join(' ');
}

// One transaction from the knock rules of `from` to those of `to` (plans that differ in
// their knock ports alone), grant and ban rules left as they are: the rules that go are
// deleted, the new ones appended, and the gate's rules moved after them. undefined: no change.
export function buildTurnScript(from: FirewallPlan, to: FirewallPlan, family: AddressFamily): string | undefined {
  const old = knockRules(from, family).map(ruleText);
  const now = knockRules(to, family).map(ruleText);
  if (old.join('\n') === now.join('\n')) return undefined;
  const gates = gateRules(to).map(ruleText);
  const lines = [
    '*filter',
    ...old.filter((rule) => !now.includes(rule)).map((rule) => `-D ${CHAIN} ${rule}`),
    ...gates.map((rule) => `-D ${CHAIN} ${rule}`),
    ...now.filter((rule) => !old.includes(rule)).map((rule) => `-A ${CHAIN} ${rule}`),
    ...gates.map((rule) => `-A ${CHAIN} ${rule}`),
    'COMMIT',
  ];
  return `${lines.join('\n')}\n`;
}
