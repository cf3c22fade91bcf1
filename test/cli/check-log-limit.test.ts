import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-cli-log-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'kern.log'), '');

async function check(options: string, firewall: string): Promise<{ code: number; lines: string[]; stderr: string }> {
  const path = join(dir, 'check.ini');
  writeFileSync(path, `[options]\nwhitelist = 192.0.2.10\n${options}[openSSH]\nsequence = 7000,8000,9000:udp\nseq_timeout = 5\n[web]\nsequence = 6000,6001\nopen = 443/tcp\n`);
  const result = await cli('check', '--config', path, '--log', join(dir, 'kern.log'), '--firewall', firewall);
  return { code: result.code, lines: result.stdout.split('\n'), stderr: result.stderr };
}

// The lines between a heading and the next blank line.
function block(lines: readonly string[], heading: string): string[] {
  const start = lines.findIndex((line) => line.startsWith(heading));
  if (start < 0) return [];
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end);
}

describe('knockwatch check: the LOG limit', () => {
  it('prints the limit, each door\'s fit and the exact nftables rules per family', async () => {
    const { code, lines } = await check('log_limit = 10/second\nlog_burst = 30\n', 'nftables');
    expect(code).toBe(0);
    expect(lines).toContain('  log_limit          10/second, burst 30, per IPv4 address and per IPv6 /64 on the knock LOG rules; a source idle 3s is forgotten, at most 65536 kept per family');
    expect(lines.filter((line) => line.startsWith('  log_limit          fits'))).toEqual([
      '  log_limit          fits: 3 steps back-to-back within burst 30; at 10/second the last comes 0.2s after the first (seq_timeout 5s)',
      '  log_limit          fits: 2 steps back-to-back within burst 30; at 10/second the last comes 0.1s after the first (seq_timeout 25s)',
    ]);
    expect(block(lines, 'Log limit rules')).toEqual([
      'Log limit rules (nftables; per IPv4 address and per IPv6 /64):',
      '  IPv4  tcp dport { 6000, 6001, 7000, 8000 } update @loglimit4 { ip saddr limit rate over 10/second burst 30 packets } drop comment "knockwatch:log-limit"',
      '  IPv4  udp dport 9000 update @loglimit4 { ip saddr limit rate over 10/second burst 30 packets } drop comment "knockwatch:log-limit"',
      '  IPv6  tcp dport { 6000, 6001, 7000, 8000 } update @loglimit6 { ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 10/second burst 30 packets } drop comment "knockwatch:log-limit"',
      '  IPv6  udp dport 9000 update @loglimit6 { ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 10/second burst 30 packets } drop comment "knockwatch:log-limit"',
    ]);
    // the same rules are in the plan it prints
    for (const rule of block(lines, 'Log limit rules').slice(1)) expect(lines).toContain(`    ${rule.slice('  IPv4  '.length)}`);
  });

  // The kernel's hashlimit drops what it has no room to count; nft's update only fails to match.
  it('warns that a full iptables limit table drops a new address\'s knock unlogged, and not for nftables', async () => {
    const warning = (lines: readonly string[]): string[] => lines.filter((line) => line.includes('log_limit: with iptables'));
    const iptables = await check('', 'iptables');
    expect(warning(iptables.lines).map((line) => line.trim())).toEqual([
      `${join(dir, 'check.ini')} [options] log_limit: with iptables, while 65536 sources are in a family's limit table (a spoofed flood of about 21,846 new sources a second), the kernel drops a knock from any other address without logging it, so no door opens for it until the flood eases; nftables logs such a knock past the limit instead (firewall = nftables).`,
    ]);
    expect(warning((await check('', 'nftables')).lines)).toEqual([]);
    expect(warning((await check('log_limit = off\n', 'iptables')).lines)).toEqual([]);
  });

  // Consecutive ports of one door (web's 6000,6001) are one rule.
  it('prints the iptables LOG rules with their hashlimit, one per run of knock ports and family', async () => {
    const { lines } = await check('', 'iptables');
    const rules = block(lines, 'Log limit rules');
    expect(rules[0]).toBe('Log limit rules (iptables; per IPv4 address and per IPv6 /64):');
    expect(rules.slice(1).map((rule) => rule.replace(/ --dport ([\d:]+) .* --hashlimit-name (\S+) .*/, ' $1 $2'))).toEqual([
      '  IPv4  -A KNOCKWATCH -p tcp -m tcp 6000:6001 knockwatch-log4-20-60-32',
      '  IPv4  -A KNOCKWATCH -p tcp -m tcp 7000 knockwatch-log4-20-60-32',
      '  IPv4  -A KNOCKWATCH -p tcp -m tcp 8000 knockwatch-log4-20-60-32',
      '  IPv4  -A KNOCKWATCH -p udp -m udp 9000 knockwatch-log4-20-60-32',
      '  IPv6  -A KNOCKWATCH -p tcp -m tcp 6000:6001 knockwatch-log6-20-60-64',
      '  IPv6  -A KNOCKWATCH -p tcp -m tcp 7000 knockwatch-log6-20-60-64',
      '  IPv6  -A KNOCKWATCH -p tcp -m tcp 8000 knockwatch-log6-20-60-64',
      '  IPv6  -A KNOCKWATCH -p udp -m udp 9000 knockwatch-log6-20-60-64',
    ]);
    expect(rules[1]).toBe('  IPv4  -A KNOCKWATCH -p tcp -m tcp --dport 6000:6001 -m comment --comment knockwatch:web -m hashlimit --hashlimit-upto 20/sec '
      + '--hashlimit-burst 60 --hashlimit-mode srcip --hashlimit-name knockwatch-log4-20-60-32 --hashlimit-htable-max 65536 --hashlimit-htable-expire 3000 -j LOG --log-prefix "knockwatch "');
    expect(rules[5]).toBe('  IPv6  -A KNOCKWATCH -p tcp -m tcp --dport 6000:6001 -m comment --comment knockwatch:web -m hashlimit --hashlimit-upto 20/sec '
      + '--hashlimit-burst 60 --hashlimit-mode srcip --hashlimit-name knockwatch-log6-20-60-64 --hashlimit-htable-max 65536 --hashlimit-htable-expire 3000 --hashlimit-srcmask 64 -j LOG --log-prefix "knockwatch "');
  });

  it('log_limit = off: says so, with no fit and no rules', async () => {
    const { lines } = await check('log_limit = off\n', 'nftables');
    expect(lines).toContain('  log_limit          off (every packet to a knock or trap port is logged)');
    expect(lines.filter((line) => line.includes('fits:') || line.includes('loglimit'))).toEqual([]);
    expect(block(lines, 'Log limit rules')).toEqual([]);
  });

  it('refuses a door that does not fit, before printing a plan', async () => {
    const { code, lines, stderr } = await check('log_burst = 2\n', 'nftables');
    expect(code).toBe(2);
    expect(lines).toEqual(['']);
    expect(stderr).toContain('[openSSH] sequence: expected at most log_burst (2) steps');
  });
});

describe('knockwatch check: the tracking caps', () => {
  it('prints max_tracked and max_first_steps, and says when the first-step table is off', async () => {
    expect((await check('', 'nftables')).lines.filter((line) => /^ {2}max_(tracked|first_steps)/.test(line))).toEqual([
      '  max_tracked        50000 sources past their first step (fewest steps done go first when full), and as many trap periods of new sources (oldest go first)',
      '  max_first_steps    1048576 sources with only a first step (oldest go first when full)',
    ]);
    const off = (await check('max_first_steps = 0\n', 'nftables')).lines;
    expect(off).toContain('  max_first_steps    0 (off: first steps count under max_tracked)');
    expect(off).toContain('  max_tracked        50000 sources, trapped or with steps done (fewest steps done go first when full)');
  });
});
