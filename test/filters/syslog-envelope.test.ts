import { describe, expect, it } from 'vitest';
import { parseSyslogEnvelope } from '../../src/filters/syslog-envelope.js';

describe('the syslog envelope', () => {
  it.each([
    // Solaris syslogd puts a message id before the message (fail2ban's sshd samples)
    ['Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Failed keyboard-interactive for james from 205.186.180.30 port 54520 ssh2',
      { host: 'dusky', tag: 'sshd', pid: 20878, message: 'Failed keyboard-interactive for james from 205.186.180.30 port 54520 ssh2' }],
    // no host: some syslog daemons write none (fail2ban's sshd samples)
    ['Nov 23 21:50:37 sshd[8148]: Connection closed by 61.0.0.1 [preauth]',
      { host: '', tag: 'sshd', pid: 8148, message: 'Connection closed by 61.0.0.1 [preauth]' }],
    ['2026-11-22T09:00:14.512301+00:00 kernel: [ 1000.003333] KNOCK IN=eth0',
      { host: '', tag: 'kernel', pid: undefined, message: '[ 1000.003333] KNOCK IN=eth0' }],
    // journalctl -o short-precise: a traditional stamp with microseconds
    ['Nov 22 01:43:16.945087 gate kernel: [  504.570152] KNOCK IN=eth0',
      { stamp: 'Nov 22 01:43:16.945087', host: 'gate', tag: 'kernel', pid: undefined, message: '[  504.570152] KNOCK IN=eth0' }],
    ['Jan 7 09:58:47.5 gate sshd[1]: Invalid user x from 192.0.2.1',
      { stamp: 'Jan 7 09:58:47.5', host: 'gate', tag: 'sshd', pid: 1, message: 'Invalid user x from 192.0.2.1' }],
    // a host that is an IPv6 address ending in "::" is a host, not a tag
    ['Jan  7 09:58:47 2001:db8:: sshd[1]: Invalid user x from 192.0.2.1',
      { host: '2001:db8::', tag: 'sshd', pid: 1, message: 'Invalid user x from 192.0.2.1' }],
    // what only looks like a message id stays in the message
    ['Jan  7 09:58:47 gate sshd[1]: [ID x auth.info] Invalid user x from 192.0.2.1',
      { host: 'gate', tag: 'sshd', pid: 1, message: '[ID x auth.info] Invalid user x from 192.0.2.1' }],
    ['Jan  7 09:58:47 gate sshd[1]: [ID 800047 auth.info]Invalid user x from 192.0.2.1',
      { host: 'gate', tag: 'sshd', pid: 1, message: '[ID 800047 auth.info]Invalid user x from 192.0.2.1' }],
    ['Jan  7 09:58:47 gate sshd[1]: [ID 800047 Auth Info] Invalid user x from 192.0.2.1',
      { host: 'gate', tag: 'sshd', pid: 1, message: '[ID 800047 Auth Info] Invalid user x from 192.0.2.1' }],
  ])('reads %s', (line, parts) => {
    expect(parseSyslogEnvelope(line)).toMatchObject(parts);
  });

  it.each([
    'Mar  3 00:17:22 [sshd]: User root from 211.188.220.49 not allowed because not listed in AllowUsers',
    'Jan  7 09:58:47 sshd[12x]: Invalid user x from 192.0.2.1',
    'Jan  7 09:58:47. gate sshd[1]: Invalid user x from 192.0.2.1',
    'Jan  7 09:58:47.5x gate sshd[1]: Invalid user x from 192.0.2.1',
    'Jan  7 09:58:47x gate sshd[1]: Invalid user x from 192.0.2.1',
    'January 7 09:58:47 gate sshd[1]: Invalid user x from 192.0.2.1',
    'jan  7 09:58:47 gate sshd[1]: Invalid user x from 192.0.2.1',
  ])('reads no envelope in %s', (line) => {
    expect(parseSyslogEnvelope(line)).toBeUndefined();
  });
});
