import { describe, expect, it } from 'vitest';
import { configWarnings } from '../helpers/config-problems.js';

const OK_WHITELIST = 'whitelist = 192.0.2.10\n';

describe('config: warnings', () => {
  it.each([
    // the gate protects nothing / there is no lockout fallback
    ['[options]\nwhitelist = 192.0.2.10, 0.0.0.0/0, ::/0\n[d]\nsequence = 1', [
      'knockwatch.ini [options] whitelist: 0.0.0.0/0 lets every IPv4 address past the gate, so the gate protects nothing.',
      'knockwatch.ini [options] whitelist: ::/0 lets every IPv6 address past the gate, so the gate protects nothing.',
    ]],
    ['[d]\nsequence = 1', ['knockwatch.ini [options] whitelist: empty: no address gets in without knocking, so a daemon that stops seeing knocks locks everyone out (add your admin addresses).']],
    // durations more than 0 as written, 0 once rounded
    [`[options]\n${OK_WHITELIST}[d]\nsequence = 1\nopen_for = 0.0001`, ['knockwatch.ini [d] open_for: "0.0001" rounds to 0 ms, which means "until closed".']],
    [`[options]\n${OK_WHITELIST}[d]\nsequence = 1\ncmd_timeout = 0.0004`, ['knockwatch.ini [d] cmd_timeout: "0.0004" rounds to 0 ms, which means "until closed".']],
    [`[options]\n${OK_WHITELIST}[d]\nsequence = 1\nseq_timeout = 0.0001`, ['knockwatch.ini [d] seq_timeout: "0.0001" rounds to 0 ms, so the sequence can never complete.']],
    [`[options]\n${OK_WHITELIST}[d]\nsequence = 1\ntimeout = 0.0001`, ['knockwatch.ini [d] timeout: "0.0001" rounds to 0 ms, so the sequence can never complete.']],
    // keys with no effect under firewall = command
    ['[options]\nfirewall = command\nwhitelist = 192.0.2.10\nbantime = 1h\ntrap_ports = 5000\n[d]\nsequence = 1\nopen = 22/tcp\ncommand = /bin/true %IP%', [
      'knockwatch.ini [options] whitelist: no effect on the firewall with firewall = command (no gate, no accept rules of its own): your own firewall must let these addresses in.',
      "knockwatch.ini [options] bantime: with firewall = command nothing is dropped (no ruleset of its own): a ban only ends the address's grants and refuses its knocks.",
      "knockwatch.ini [options] trap_ports: with firewall = command nothing is dropped: a trap only refuses the source's knocks for trap_for.",
      "knockwatch.ini [d] open: no effect with firewall = command: the door's commands decide what opens.",
    ]],
    // only knockwatch's own ruleset counts connections
    ['[options]\nfirewall = dry-run\n[d]\nsequence = 1\nmax_connections = 1', ["knockwatch.ini [d] max_connections: no effect with firewall = dry-run: only knockwatch's own ruleset (nftables, iptables) counts connections."]],
    [`[options]\nfirewall = nftables\n${OK_WHITELIST}[d]\nsequence = 1\nmax_connections = 1`, []],
    ['[options]\nfirewall = command\n[d]\nsequence = 1', ['knockwatch.ini [d]: no start_command: with firewall = command completing this door runs nothing.']],
    // commands translated under a managed firewall; a lifetime on a door that only closes
    [`[options]\nfirewall = iptables\n${OK_WHITELIST}[o]\nsequence = 1\ncommand = iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT\n[c]\nsequence = 2\ncmd_timeout = 5\ncommand = iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT`, [
      'knockwatch.ini [o] command: translated, not run (firewall = iptables): o opens 22/tcp (from its command).',
      "knockwatch.ini [c] command: translated, not run (firewall = iptables): c closes o's 22/tcp.",
      'knockwatch.ini [c] cmd_timeout: no effect on a door that only closes o.',
    ]],
    // nothing to say
    [`[options]\n${OK_WHITELIST}[d]\nsequence = 1\nopen_for = 0`, []],
    ['[options]\nfirewall = command\n[d]\nsequence = 1\ncommand = /bin/true %IP%', []],
  ])('%j', (text, expected) => {
    expect(configWarnings(text)).toEqual(expected);
  });
});
