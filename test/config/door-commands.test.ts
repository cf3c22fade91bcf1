import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { configProblems } from '../helpers/config-problems.js';
import { debian } from '../helpers/debian-knockd.js';

function doors(text: string, firewall?: 'nftables' | 'iptables' | 'command'): Record<string, unknown>[] {
  return parseConfig(text, 'knockd.conf', firewall).doors.map(({ name, open, closes, openFor, commandTranslation }) => ({ name, open, closes, openFor, commandTranslation }));
}

describe('knockd commands under a managed firewall', () => {
  it.each(['firewall = nftables', 'firewall = iptables'])("Debian's knockd.conf means what it meant under knockd (%s)", (firewall) => {
    expect(doors(debian(firewall))).toEqual([
      { name: 'openSSH', open: [{ port: 22, proto: 'tcp' }], closes: undefined, openFor: 0, commandTranslation: 'openSSH opens 22/tcp (from its command)' },
      { name: 'closeSSH', open: [], closes: 'openSSH', openFor: 0, commandTranslation: "closeSSH closes openSSH's 22/tcp" },
      { name: 'openHTTPS', open: [{ port: 443, proto: 'tcp' }], closes: undefined, openFor: 0, commandTranslation: 'openHTTPS opens 443/tcp (from its command)' },
    ]);
  });

  it('translates too when --firewall nftables overrides a config without firewall', () => {
    expect(doors(debian(''), 'nftables')[1]).toMatchObject({ closes: 'openSSH', open: [] });
  });

  it.each([
    // not set, doors have commands: knockd's commands run as written (chooseFirewall picks command)
    ['', undefined],
    ['firewall = command', undefined],
  ])('leaves the commands alone with %j', (firewall) => {
    expect(doors(debian(firewall)).map((door) => door.commandTranslation)).toEqual([undefined, undefined, undefined]);
  });

  it('reads start_command with a matching stop_command as an ordinary timed door', () => {
    const text = `[options]\nfirewall = nftables\n[smtp]\nsequence = 1,2\ncmd_timeout = 5\nstart_command = ufw allow from %IP% to any port 25 proto tcp\nstop_command = ufw delete allow from %IP% to any port 25 proto tcp\n`;
    expect(doors(text)[0]).toMatchObject({ open: [{ port: 25, proto: 'tcp' }], openFor: 5000 });
  });

  it('opens the door\'s open = ports for an nft set, and the delete door closes it', () => {
    const text = `[options]\nfirewall = nftables\n[open]\nsequence = 1,2\nopen = 2222/tcp\ncommand = nft add element inet filter knocked { %IP% timeout 1h }\n[shut]\nsequence = 2,1\ncommand = nft delete element inet filter knocked { %IP% }\n`;
    expect(doors(text)).toMatchObject([
      { open: [{ port: 2222, proto: 'tcp' }], openFor: 3_600_000 },
      { closes: 'open', commandTranslation: "shut closes open's 2222/tcp" },
    ]);
  });

  it.each([
    // IPv6 commands that do the same as the IPv4 ones are accepted
    ['command_6 = ip6tables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT', []],
    // and refused when they do something else
    ['command_6 = ip6tables -A INPUT -s %IP% -p tcp --dport 2222 -j ACCEPT', ['knockd.conf [d] command_6: expected an IPv6 command that does what the IPv4 one does (opens 22/tcp (from its command)), found "opens 2222/tcp (from its command)"']],
  ])('%s', (line, expected) => {
    expect(configProblems(`[options]\nfirewall = iptables\n[d]\nsequence = 1,2\ncommand = iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT\n${line}\n`, 'knockd.conf')).toEqual(expected);
  });

  it('keeps the IPv6 commands in the door for the command backend', () => {
    const config = parseConfig('[d]\nsequence = 1\nstart_command = /bin/a %IP%\nstart_command_6 = /bin/a6 %IP%\nstop_command_6 = /bin/b6 %IP%\n', 'knockd.conf');
    expect(config.doors[0]).toMatchObject({ startCommand6: '/bin/a6 %IP%', stopCommand6: '/bin/b6 %IP%' });
    expect(config.unused).toEqual([]);
  });

  it.each([
    // a command it does not understand: refused, with the fix
    ['command = /usr/local/bin/open-door %IP%', 'knockd.conf [d] command: expected a command knockwatch can translate for firewall = nftables', 'or set firewall = command to run knockd\'s commands as they are, found "/usr/local/bin/open-door %IP%"'],
    // open = that disagrees with the command
    ['open = 2222/tcp\ncommand = iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT', 'knockd.conf [d] open: expected open = that agrees with command (22/tcp), found "2222/tcp"', ''],
    // a stop_command that does not undo the start_command
    ['start_command = iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT\nstop_command = iptables -D INPUT -s %IP% -p tcp --dport 443 -j ACCEPT', 'knockd.conf [d] stop_command: expected a stop_command that deletes what start_command adds', ''],
    // a delete nobody adds
    ['command = iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT', 'knockd.conf [d] command: expected a command that deletes what another door\'s command adds, found "no door adds an accept for 22/tcp"', ''],
    // an nft set whose ports the command does not say: never guessed as 22/tcp
    ['command = nft add element inet filter https_ok { %IP% }', 'knockd.conf [d] open: expected open = with the ports nft set inet filter https_ok opens (the command does not say), found nothing', ''],
    // a delete that two doors' adds would match: which grant it closes would be a guess
    ['command = iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT\n[a]\nsequence = 3,4\ncommand = iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT\n[b]\nsequence = 5,6\ncommand = iptables -I INPUT -s %IP% -p tcp --dport 22 -j ACCEPT',
      'knockd.conf [d] command: expected a command that deletes what exactly one other door adds, found "a and b all add an accept for 22/tcp"', ''],
  ])('%s is refused', (lines, first, second) => {
    const text = configProblems(`[options]\nfirewall = nftables\n[d]\nsequence = 1,2\n${lines}\n`, 'knockd.conf').join('\n');
    expect(text).toContain(first);
    expect(text).toContain(second);
  });
});

describe('one-shot knockd commands', () => {
  it.each([
    // no stop_command, no lifetime: the command runs once, the grant lasts until closed
    ['command = /bin/true %IP%', 0],
    // a stop_command without cmd_timeout keeps knockd's 10 s
    ['start_command = /bin/true %IP%\nstop_command = /bin/false %IP%', 10_000],
    ['command = /bin/true %IP%\ncmd_timeout = 30', 30_000],
    // no command at all: knockwatch's own default
    ['open = 22/tcp', 10_000],
  ])('%j lasts %i ms', (lines, openFor) => {
    expect(parseConfig(`[d]\nsequence = 1\n${lines}\n`, 'knockd.conf').doors[0]?.openFor).toBe(openFor);
  });
});
