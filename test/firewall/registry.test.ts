import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { FIREWALL_KINDS, type FirewallKind } from '../../src/config/types.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { FIREWALL_REGISTRY, PROBE_ORDER } from '../../src/firewall/registry.js';

const runner: CommandRunner = { run: async () => ({ exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }) };
const config = parseConfig('[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nstart_command = /bin/true %IP%\n', 'knockwatch.ini');

describe('the firewall registry', () => {
  it('has exactly one entry for each kind a config may name', () => {
    expect(Object.keys(FIREWALL_REGISTRY).sort()).toEqual([...FIREWALL_KINDS].sort());
  });

  it.each([...FIREWALL_KINDS])('builds the %s backend', (kind: FirewallKind) => {
    expect(FIREWALL_REGISTRY[kind].create(config, runner, undefined).name).toBe(kind);
  });

  it('probes only kinds it has, and never picks dry-run by itself', () => {
    expect(PROBE_ORDER.filter((kind) => !(FIREWALL_KINDS as readonly string[]).includes(kind))).toEqual([]);
    expect(PROBE_ORDER).not.toContain('dry-run');
    expect(FIREWALL_REGISTRY['dry-run'].probe(config)).toBeUndefined();
  });

  it('picks command for a config whose doors have start_command', () => {
    expect(FIREWALL_REGISTRY.command.probe(config)).toBe('doors have start_command');
    expect(PROBE_ORDER[0]).toBe('command');
  });
});
