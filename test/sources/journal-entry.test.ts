import { describe, expect, it } from 'vitest';
import { journalEntryToLine } from '../../src/sources/journal-entry.js';

const STAMP = '1795338000123456'; // 2026-11-22T09:00:00.123456Z
const KNOCK = 'KNOCKWATCH IN=eth0 OUT= MAC=00 SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0';

// A kernel netfilter record as journald stores it (`journalctl -o json`).
const kernel = {
  __CURSOR: 's=1;i=2', __REALTIME_TIMESTAMP: STAMP, _TRANSPORT: 'kernel', SYSLOG_FACILITY: '0',
  SYSLOG_IDENTIFIER: 'kernel', PRIORITY: '4', _HOSTNAME: 'gate', MESSAGE: KNOCK,
};
// sshd's monitor (root), logging through syslog(3) from ssh.service.
const sshd = {
  __CURSOR: 's=1;i=3', __REALTIME_TIMESTAMP: STAMP, _TRANSPORT: 'syslog', SYSLOG_FACILITY: '4',
  SYSLOG_IDENTIFIER: 'sshd', SYSLOG_PID: '2211', _PID: '2211', _UID: '0', _COMM: 'sshd',
  _SYSTEMD_UNIT: 'ssh.service', _HOSTNAME: 'gate', MESSAGE: 'Failed password for root from 198.51.100.9 port 50000 ssh2',
};

describe('a journal entry as a synthetic line', () => {
  it.each([
    // the kernel's own record
    ['kernel', kernel, 'knocks', `2026-11-22T09:00:00.123456+00:00 gate kernel: ${KNOCK}`],
    // sshd over syslog, the journal API and stdout; a session moved to its scope keeps the identifier
    ['sshd syslog', sshd, 'auth', '2026-11-22T09:00:00.123456+00:00 gate sshd[2211]: Failed password for root from 198.51.100.9 port 50000 ssh2'],
    ['sshd journal', { ...sshd, _TRANSPORT: 'journal' }, 'auth', '2026-11-22T09:00:00.123456+00:00 gate sshd[2211]: Failed password for root from 198.51.100.9 port 50000 ssh2'],
    ['sshd stdout', { ...sshd, _TRANSPORT: 'stdout', SYSLOG_PID: undefined }, 'auth', '2026-11-22T09:00:00.123456+00:00 gate sshd[2211]: Failed password for root from 198.51.100.9 port 50000 ssh2'],
    ['sshd-session in a session scope', { ...sshd, SYSLOG_IDENTIFIER: 'sshd-session', _COMM: 'sshd-session', _SYSTEMD_UNIT: 'session-3.scope', MESSAGE: 'pam_unix(sshd:session): session closed for user alice' }, 'auth', '2026-11-22T09:00:00.123456+00:00 gate sshd-session[2211]: pam_unix(sshd:session): session closed for user alice'],
    // the trusted _PID wins over the sender's SYSLOG_PID
    ['pid from _PID', { ...sshd, SYSLOG_PID: '1' }, 'auth', '2026-11-22T09:00:00.123456+00:00 gate sshd[2211]: Failed password for root from 198.51.100.9 port 50000 ssh2'],
    // MESSAGE as bytes (journalctl prints those for non-UTF-8 or control characters), controls become spaces
    ['byte message', { ...kernel, MESSAGE: [...Buffer.from('caf\u00e9\tSRC=1\n')] }, 'knocks', '2026-11-22T09:00:00.123456+00:00 gate kernel: café SRC=1 '],
    ['zero fraction', { ...kernel, __REALTIME_TIMESTAMP: '1795338000000001' }, 'knocks', `2026-11-22T09:00:00.000001+00:00 gate kernel: ${KNOCK}`],
  ])('%s', (_name, entry, lines, expected) => {
    expect(journalEntryToLine(entry, lines as 'knocks' | 'auth')).toBe(expected);
  });

  it.each([
    // forged knocks: `logger -t kernel` (syslog transport) and a record written to /dev/kmsg
    // from user space (journald files it under _TRANSPORT=kernel with facility user)
    ['logger -t kernel', { ...kernel, _TRANSPORT: 'syslog' }, 'knocks'],
    ['kmsg written by user space', { ...kernel, SYSLOG_FACILITY: '1' }, 'knocks'],
    ['kernel without facility', { ...kernel, SYSLOG_FACILITY: undefined }, 'knocks'],
    ['sshd entry read for knocks', sshd, 'knocks'],
    ['kernel entry read for auth', kernel, 'auth'],
    // forged sshd: `logger -t 'sshd[1]'` (_COMM=logger), a copy of logger named sshd (not root),
    // a root process that is not sshd
    ['logger -t sshd', { ...sshd, _COMM: 'logger', _UID: '1000', _SYSTEMD_UNIT: 'session-3.scope' }, 'auth'],
    ['renamed logger', { ...sshd, _UID: '1000', _SYSTEMD_UNIT: 'user@1000.service' }, 'auth'],
    ['root logger', { ...sshd, _COMM: 'logger' }, 'auth'],
    ['no _COMM', { ...sshd, _COMM: undefined }, 'auth'],
    ['numeric _UID', { ...sshd, _UID: 0 }, 'auth'],
    ['other transport', { ...sshd, _TRANSPORT: 'audit' }, 'auth'],
    ['neither unit nor identifier', { ...sshd, SYSLOG_IDENTIFIER: 'cron', _SYSTEMD_UNIT: 'cron.service' }, 'auth'],
    ['identifier with a space', { ...sshd, _SYSTEMD_UNIT: 'ssh.service', SYSLOG_IDENTIFIER: 'sshd x' }, 'auth'],
    // hostile or missing fields
    ['not an object', 'kernel', 'knocks'],
    ['null', null, 'knocks'],
    ['array', [kernel], 'knocks'],
    ['no stamp', { ...kernel, __REALTIME_TIMESTAMP: undefined }, 'knocks'],
    ['numeric stamp', { ...kernel, __REALTIME_TIMESTAMP: 1795338000123456 }, 'knocks'],
    ['huge stamp', { ...kernel, __REALTIME_TIMESTAMP: '9'.repeat(400) }, 'knocks'],
    ['negative stamp', { ...kernel, __REALTIME_TIMESTAMP: '-1' }, 'knocks'],
    ['no host', { ...kernel, _HOSTNAME: undefined }, 'knocks'],
    ['host with a space', { ...kernel, _HOSTNAME: 'a b' }, 'knocks'],
    ['host with a newline', { ...kernel, _HOSTNAME: 'a\nb' }, 'knocks'],
    ['null message (over 4096 bytes)', { ...kernel, MESSAGE: null }, 'knocks'],
    ['numeric message', { ...kernel, MESSAGE: 7 }, 'knocks'],
    ['byte out of range', { ...kernel, MESSAGE: [65, 256] }, 'knocks'],
    ['byte not an integer', { ...kernel, MESSAGE: [65, 1.5] }, 'knocks'],
    ['byte as a string', { ...kernel, MESSAGE: ['65'] }, 'knocks'],
    ['huge message', { ...kernel, MESSAGE: 'x'.repeat(70_000) }, 'knocks'],
    ['huge byte message', { ...kernel, MESSAGE: new Array(70_000).fill(65) }, 'knocks'],
    ['transport as an array', { ...kernel, _TRANSPORT: ['kernel'] }, 'knocks'],
  ])('refuses %s', (_name, entry, lines) => {
    expect(journalEntryToLine(entry, lines as 'knocks' | 'auth')).toBeUndefined();
  });

  it('writes a bad pid as no pid', () => {
    expect(journalEntryToLine({ ...sshd, _PID: '12a', SYSLOG_PID: '1'.repeat(20) }, 'auth'))
      .toBe('2026-11-22T09:00:00.123456+00:00 gate sshd: Failed password for root from 198.51.100.9 port 50000 ssh2');
  });
});
