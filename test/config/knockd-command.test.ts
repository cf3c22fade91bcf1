import { describe, expect, it } from 'vitest';
import { readKnockdCommand } from '../../src/config/knockd-command.js';
import { splitCommand } from '../../src/text/split-command.js';

function read(command: string): unknown {
  const split = splitCommand(command);
  if (!split.ok) throw new Error(split.reason);
  return readKnockdCommand(split.argv);
}

const ssh = [{ port: 22, proto: 'tcp' }];

describe('knockd commands: the common idioms', () => {
  it.each([
    // iptables / ip6tables, any path, -w, option order free
    ['/usr/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT', { op: 'add', target: 'ports', ports: ssh }],
    ['iptables -w -I INPUT 1 -s %IP% -p tcp -m tcp --dport 22 -j ACCEPT', { op: 'add', target: 'ports', ports: ssh }],
    ['/sbin/ip6tables -w 5 -p udp --dport 1194 -j ACCEPT -A INPUT --source %IP%', { op: 'add', target: 'ports', ports: [{ port: 1194, proto: 'udp' }] }],
    ['iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT', { op: 'delete', target: 'ports', ports: ssh }],
    // ufw
    ['ufw allow from %IP% to any port 22 proto tcp', { op: 'add', target: 'ports', ports: ssh }],
    ['/usr/sbin/ufw allow from %IP% to any port 53', { op: 'add', target: 'ports', ports: [{ port: 53, proto: 'tcp' }, { port: 53, proto: 'udp' }] }],
    ['ufw delete allow proto tcp from %IP% to any port 22', { op: 'delete', target: 'ports', ports: ssh }],
    // nft sets
    ['/usr/sbin/nft add element inet filter knocked { %IP% }', { op: 'add', target: 'set', set: 'inet filter knocked', timeout: undefined }],
    ["nft add element inet fw4 knock_v4 '{ %IP% timeout 30s }'", { op: 'add', target: 'set', set: 'inet fw4 knock_v4', timeout: 30_000 }],
    ['nft add element filter allowed {%IP%}', { op: 'add', target: 'set', set: 'ip filter allowed', timeout: undefined }],
    ['nft delete element inet filter knocked { %IP% }', { op: 'delete', target: 'set', set: 'inet filter knocked', timeout: undefined }],
    // knockd's helper, as Debian's knockd.conf uses it
    ['/usr/local/sbin/knock_add -i -c INPUT -p tcp -d 443 -f %IP%', { op: 'add', target: 'ports', ports: [{ port: 443, proto: 'tcp' }] }],
    ['knock_helper_ipt.sh --delete --chain INPUT --proto udp --dstport 500 --srcaddr %IP%', { op: 'delete', target: 'ports', ports: [{ port: 500, proto: 'udp' }] }],
  ])('%s', (command, action) => {
    expect(read(command)).toEqual(action);
  });

  it.each([
    // another chain, target, destination or extra match
    'iptables -A FORWARD -s %IP% -p tcp --dport 22 -j ACCEPT',
    'iptables -A INPUT -s %IP% -p tcp --dport 22 -j DROP',
    'iptables -A INPUT -s %IP% -d 192.0.2.1 -p tcp --dport 22 -j ACCEPT',
    'iptables -A INPUT -s %IP% -p tcp -m conntrack --ctstate NEW --dport 22 -j ACCEPT',
    'iptables -A INPUT -s %IP% --dport 22 -j ACCEPT',
    'iptables -A INPUT -s 192.0.2.7 -p tcp --dport 22 -j ACCEPT',
    'iptables -D INPUT 3',
    'iptables -A INPUT -s %IP% -p tcp --dport 22:25 -j ACCEPT',
    // ufw, nft, helper, other programs
    'ufw allow from %IP% to 192.0.2.1 port 22',
    'ufw allow 22/tcp',
    'nft add rule inet filter input ip saddr %IP% tcp dport 22 accept',
    'nft add element inet filter knocked { %IP% . 22 }',
    'knock_add -i -c FORWARD -p tcp -d 443 -f %IP%',
    'knock_add -i -p tcp -d 443 -f %IP% -z',
    '/usr/local/bin/open-door %IP%',
  ])('%s is not understood', (command) => {
    expect(read(command)).toBeUndefined();
  });
});
