import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { configProblems } from '../helpers/config-problems.js';

// Shapes seen in knockd.conf files people published, written anew here: each row is one
// habit of a real file, and what knockd itself makes of it decides what is expected.
describe('config: knockd.conf shapes from the wild', () => {
  it.each([
    // a shell comment after the command: knockd's /bin/sh drops it, and so does ini
    ['command = /sbin/iptables -I INPUT 1 -s %IP% -p tcp --dport 22 -j ACCEPT # first rule, always', '/sbin/iptables -I INPUT 1 -s %IP% -p tcp --dport 22 -j ACCEPT'],
    ['start_command = /usr/local/bin/open-door %IP%\t# see the wiki', '/usr/local/bin/open-door %IP%'],
  ])('%j runs what knockd runs', (line, command) => {
    const config = parseConfig(`[options]\n  UseSyslog\n[openSSH]\n  sequence = 2000,3000,4000\n  ${line}\n`, 'knockd.conf');
    expect(config.doors.map((door) => door.startCommand)).toEqual([command]);
  });

  it.each([
    // a # the shell would not read as a comment (inside quotes, inside a word): ini cuts there
    ['command = /usr/bin/logger -t knock "door # opened"', ['knockd.conf [openSSH] command: expected a command without shell syntax, found "/usr/bin/logger -t knock "door (an unclosed ")"']],
    ['command = /usr/bin/logger knock#%IP%', []],
    ['command = /usr/bin/logger knock\\ #%IP%', []],
  ])('%j is refused', (line, more) => {
    expect(configProblems(`[openSSH]\n  sequence = 2000,3000,4000\n  ${line}\n`, 'knockd.conf')).toEqual([
      `knockd.conf [openSSH] line 3 command: expected a command without ; or # (ini reads them as a comment; put several commands in a script), found "${line.slice(line.indexOf('=') + 2)}"`,
      ...more,
    ]);
  });
  // The shell drops the comment with its %IP%: the command would run for no address (under
  // iptables, an ACCEPT for every source).
  it('refuses a command whose %IP% is in its comment', () => {
    expect(configProblems('[openSSH]\n  sequence = 2000,3000,4000\n  command = /sbin/iptables -I INPUT -p tcp --dport 22 -j ACCEPT # for %IP%\n', 'knockd.conf')).toEqual([
      'knockd.conf [openSSH] line 3 command: expected %IP% before the comment (neither ini nor the shell keeps the text after #), found "...I INPUT -p tcp --dport 22 -j ACCEPT # for %IP%"',
    ]);
  });

  // knockd.c reads TIMEOUT as SEQ_TIMEOUT
  it('reads knockd\'s timeout as seq_timeout', () => {
    const config = parseConfig('[openSSH]\n  sequence = 2000,3000,4000\n  timeout = 10\n  command = /usr/bin/true %IP%\n', 'knockd.conf');
    expect(config.doors.map((door) => door.seqTimeout)).toEqual([10_000]);
    expect(configProblems('[openSSH]\n  sequence = 2000,3000,4000\n  seq_timeout = 5\n  timeout = 10\n  command = /usr/bin/true %IP%\n', 'knockd.conf')).toEqual([
      'knockd.conf [openSSH] timeout: expected seq_timeout or timeout, not both, found "both"',
    ]);
  });

  it('shows the ; of a long command, not only its start', () => {
    const line = 'command = /sbin/iptables -I INPUT -s %IP% -m comment --comment "Let in by knockd" -j ACCEPT; /usr/local/bin/notify-admin %IP%/32';
    expect(configProblems(`[options]\n  UseSyslog\n[openSSH]\n  sequence = 1111:udp,2222:udp,3333:udp\n  ${line}\n`, 'knockd.conf')).toEqual([
      'knockd.conf [openSSH] line 5 command: expected a command without ; or # (ini reads them as a comment; put several commands in a script), found "...comment "Let in by knockd" -j ACCEPT; /usr/local/bin/notify-admin %IP%/3..."',
    ]);
  });
  it.each([
    // options written above the first section (knockd refuses: "all directives must belong to a section")
    ['# listen on\ninterface=eth0\nlogfile=knockd.log\n\n[open SSH]\nsequence=1000,1001,1002\ncommand=/usr/bin/true %IP%\n', [
      'knockd.conf line 2: expected a [section] before the first key, found "interface=eth0"',
      'knockd.conf line 3: expected a [section] before the first key, found "logfile=knockd.log"',
    ]],
  ])('%j is refused once per line, without problems of a nameless door', (text, problems) => {
    expect(configProblems(text, 'knockd.conf')).toEqual(problems);
  });
  it.each([
    '[openSSH]   # the door for admins\n  sequence = 7000,8000\n[closeSSH] ; the reverse\n  sequence = 8000,7000\n',
    '[openSSH]\t#the door for admins\r\n  sequence = 7000,8000\r\n[closeSSH];the reverse\r\n  sequence = 8000,7000\r\n',
  ])('%j reads a comment after a section header as a comment, not as a key of the section before', (text) => {
    const config = parseConfig(text, 'knockd.conf');
    expect(config.doors.map((door) => [door.name, door.knock])).toEqual([
      ['openSSH', { kind: 'static', sequence: [{ port: 7000, proto: 'tcp' }, { port: 8000, proto: 'tcp' }] }],
      ['closeSSH', { kind: 'static', sequence: [{ port: 8000, proto: 'tcp' }, { port: 7000, proto: 'tcp' }] }],
    ]);
  });
  it.each(['start_command_6 =', 'stop_command_6 =  '])('%j (knockd: run nothing for IPv6) is refused, saying what to write instead', (line) => {
    const key = line.split(' ')[0] ?? '';
    const text = `[openSSH]\n  sequence = 7000,8000\n  start_command = /usr/local/bin/open %IP%\n  stop_command = /usr/local/bin/close %IP%\n  ${line}\n`;
    expect(configProblems(text, 'knockd.conf')).toEqual([
      `knockd.conf [openSSH] ${key}: expected a command; for knockd's empty value (run nothing) write /bin/true, or leave a _6 key out to run the IPv4 command for IPv6 too, found nothing`,
    ]);
  });
});
