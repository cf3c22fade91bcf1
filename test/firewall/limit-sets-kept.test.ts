import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import type { Grant } from '../../src/access/grant-table.js';
import { fixture } from '../helpers/listings.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { recorder } from '../helpers/recorder.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

// Real nft in a private network namespace of this suite's own.
const missing = missingPrerequisites(['nft', 'ip'], true);
explainSkip('nftables limit sets across reinstalls', missing);

const HOUR = 1_699_999_200_000;
const SECRET = Buffer.from('a long random secret');
const INI = `[options]\nfirewall = nftables\n[openSSH]\nsecret_file = /s\nrotate = 1h\nport_range = 10000-10999\nopen = 22/tcp\nmax_connections = 1\n`;
const planFrom = (ini: string) => buildFirewallPlan(parseConfig(ini, 'test.ini', undefined, undefined, () => SECRET));
const planOf = (extra = '') => planFrom(INI.replace('[openSSH]', `${extra}[openSSH]`));
const GRANT: Grant = { src: '203.0.113.7', door: 'openSSH', ports: [{ port: 22, proto: 'tcp' }], opened: HOUR, expires: HOUR + 4 * 3_600_000 };

describe.skipIf(missing.length > 0)('nftables limit sets across reinstalls', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = createNamespace(`kw12-sets-${process.pid}`);
  });
  afterAll(() => ns?.remove());

  const nft = (...args: string[]): string => ns.exec('nft', args);
  const elements = (set: string): string[] => {
    const listed = JSON.parse(nft('-j', 'list', 'set', 'inet', 'knockwatch', set)) as { nftables: { set?: { elem?: unknown[] } }[] };
    return (listed.nftables.find((item) => item.set !== undefined)?.set?.elem ?? []).map((elem) => JSON.stringify((elem as { elem?: { val: unknown } }).elem?.val ?? elem));
  };
  const knockRule = (): string => nft('list', 'chain', 'inet', 'knockwatch', 'input').split('\n').find((line) => line.includes('log prefix')) ?? '';
  // What the kernel's meters would hold after a flood and a granted address's connection.
  const fill = (): void => {
    nft('add', 'element', 'inet', 'knockwatch', 'loglimit4', '{ 198.51.100.5 timeout 1h }');
    nft('add', 'element', 'inet', 'knockwatch', 'connlimit4_0', '{ 203.0.113.7 . 22 }');
  };
  const LOG_SOURCE = '"198.51.100.5"';
  const COUNTED = JSON.stringify({ concat: ['203.0.113.7', 22] });

  it('a window turn keeps the LOG budgets and max_connections counts, and changes the knock ports', async () => {
    const backend = new NftablesBackend(planOf(), ns.runner);
    await backend.start([GRANT], HOUR);
    fill();
    const before = knockRule();
    await backend.start([GRANT], HOUR + 3_600_000);
    expect(knockRule()).not.toBe(before);
    expect([elements('loglimit4'), elements('connlimit4_0')]).toEqual([[LOG_SOURCE], [COUNTED]]);
    expect(await backend.verify([GRANT], HOUR + 3_600_000, [])).toBe(true);
  });

  it('a repair keeps them too, and replaces what drifted', async () => {
    const backend = new NftablesBackend(planOf(), ns.runner);
    await backend.start([GRANT], HOUR);
    fill();
    nft('flush', 'chain', 'inet', 'knockwatch', 'input');
    nft('add', 'set', 'inet', 'knockwatch', 'stray', '{ type ipv4_addr; }');
    expect(await backend.verify([GRANT], HOUR, [])).toBe(false);
    await backend.start([GRANT], HOUR);
    expect(await backend.verify([GRANT], HOUR, [])).toBe(true);
    expect([elements('loglimit4'), elements('connlimit4_0'), elements('grant4_0')]).toEqual([[LOG_SOURCE], [COUNTED], [expect.stringContaining('203.0.113.7')]]);
  });

  // A limit set whose definition changed (here the idle timeout, from log_burst) is made anew;
  // the others stay.
  it('a limit set that is not what the plan declares is made anew', async () => {
    await new NftablesBackend(planOf(), ns.runner).start([GRANT], HOUR);
    fill();
    const changed = new NftablesBackend(planOf('log_burst = 200\n'), ns.runner);
    await changed.start([GRANT], HOUR);
    expect([elements('loglimit4'), elements('connlimit4_0')]).toEqual([[], [COUNTED]]);
    expect(nft('list', 'set', 'inet', 'knockwatch', 'loglimit4')).toContain('timeout 10s');
    expect(await changed.verify([GRANT], HOUR, [])).toBe(true);
  });

  // What an admin put in the table goes with the reinstall: a chain (and the jump to it) in the
  // transaction that keeps the sets; a chain whose name nft cannot read back (made through its
  // JSON input) or a map by replacing the table whole.
  it.each([
    ['a chain and a jump to it', ['add chain inet knockwatch extra', 'insert rule inet knockwatch input jump extra', 'add rule inet knockwatch extra tcp dport 22 accept'], [LOG_SOURCE]],
    ['a chain named "log"', [], []],
    ['a map', ['add map inet knockwatch m { type ipv4_addr : verdict; }'], []],
  ])('%s added by an admin goes; the gate is whole again', async (what, commands, budgets) => {
    const backend = new NftablesBackend(planOf(), ns.runner);
    await backend.start([GRANT], HOUR);
    fill();
    for (const command of commands) nft(...command.split(' '));
    if (what.includes('"log"')) {
      const file = join(mkdtempSync(join(tmpdir(), 'kw-nft-')), 'chain.json');
      writeFileSync(file, JSON.stringify({ nftables: [{ add: { chain: { family: 'inet', table: 'knockwatch', name: 'log' } } }] }));
      nft('-j', '-f', file);
      rmSync(dirname(file), { recursive: true });
      expect(nft('-j', 'list', 'chains', 'inet')).toContain('"name": "log"');
    }
    await backend.start([GRANT], HOUR);
    expect(await backend.verify([GRANT], HOUR, [])).toBe(true);
    expect(nft('list', 'table', 'inet', 'knockwatch').match(/chain \S+/g)).toEqual(['chain input']);
    expect(elements('loglimit4')).toEqual(budgets);
  });

  // Each element holds its own limit, made from the rule that added it: a set kept across a
  // change of log_limit or max_connections would go on applying the old one to the sources
  // it holds (a flooding source kept its old rate, a granted address its old count).
  it.each([
    ['log_limit (with the same idle timeout)', INI.replace('[openSSH]', 'log_limit = 40/second\nlog_burst = 120\n[openSSH]'), 'loglimit4', 'connlimit4_0'],
    ['max_connections', INI.replace('max_connections = 1', 'max_connections = 3'), 'connlimit4_0', 'loglimit4'],
  ])('a change of %s makes its set anew', async (_what, ini, anew, kept) => {
    await new NftablesBackend(planOf(), ns.runner).start([GRANT], HOUR);
    fill();
    const changed = new NftablesBackend(planFrom(ini), ns.runner);
    await changed.start([GRANT], HOUR);
    expect(elements(anew)).toEqual([]);
    expect(elements(kept)).not.toEqual([]);
    expect(await changed.verify([GRANT], HOUR, [])).toBe(true);
  });
});

describe('nftables limit sets kept: the transaction', () => {
  // A listing real nft printed for this config (log-limit.test.ts): its log limit's sets as the plan has them.
  const installed = fixture('log-limit-nft-installed.json');

  it('keeps intact limit sets, and replaces the whole table when that transaction fails', async () => {
    const { runner, calls } = recorder((line) => {
      if (line.startsWith('nft -j list table')) return { stdout: installed };
      return line.startsWith('nft -f -') && line.includes('flush chain') ? { failed: true } : undefined;
    });
    await new NftablesBackend(buildFirewallPlan(parseConfig('[options]\nwhitelist = 192.0.2.10\nlog_prefix = KNOCK\n[openSSH]\nsequence = 7000,8000,9000:udp\nopen = 22/tcp\n', 'test.ini')), runner).start([], 0);
    const heads = calls.filter((call) => call.startsWith('nft -f -')).map((call) => call.split('\n').slice(2, 4).concat(call.split('\n').filter((line) => line.startsWith('delete set'))));
    expect(heads).toEqual([
      ['flush chain inet knockwatch input', 'delete chain inet knockwatch input', 'delete set inet knockwatch whitelist4', 'delete set inet knockwatch whitelist6', 'delete set inet knockwatch banned4', 'delete set inet knockwatch banned6',
        'delete set inet knockwatch grant4_0', 'delete set inet knockwatch grant6_0'],
      ['table inet knockwatch', 'delete table inet knockwatch'],
    ]);
  });
});
