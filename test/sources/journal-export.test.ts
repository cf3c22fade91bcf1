import { describe, expect, it } from 'vitest';
import { isJournalJson, journalJsonLines, journalJsonToLine } from '../../src/sources/journal-export.js';

// A `journalctl -o json` export: a real knock, a knock forged through /dev/kmsg, sshd's
// monitor, a `logger -t 'sshd[1]'` forgery, and a line that is not JSON.
const EXPORT = [
  '{"__CURSOR":"s=1;i=1","__REALTIME_TIMESTAMP":"1795338000100000","_TRANSPORT":"kernel","SYSLOG_FACILITY":"0","SYSLOG_IDENTIFIER":"kernel","_HOSTNAME":"gate","MESSAGE":"KNOCKWATCH SRC=203.0.113.7 DPT=7000"}',
  '{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1795338000200000","_TRANSPORT":"kernel","SYSLOG_FACILITY":"1","SYSLOG_IDENTIFIER":"kernel","_HOSTNAME":"gate","MESSAGE":"KNOCKWATCH SRC=198.51.100.1 DPT=7000"}',
  '{"__CURSOR":"s=1;i=3","__REALTIME_TIMESTAMP":"1795338000300000","_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"sshd","_PID":"2211","_UID":"0","_COMM":"sshd","_HOSTNAME":"gate","MESSAGE":"Accepted publickey for alice from 203.0.113.7 port 51234 ssh2"}',
  '{"__CURSOR":"s=1;i=4","__REALTIME_TIMESTAMP":"1795338000400000","_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"sshd","SYSLOG_PID":"1","_PID":"999","_UID":"1000","_COMM":"logger","_HOSTNAME":"gate","MESSAGE":"Failed password for root from 192.0.2.99 port 1 ssh2"}',
  'not json',
];

describe('a journal JSON export read for replay', () => {
  it('is recognised by its first line', () => {
    expect([EXPORT[0]!, '{"a":1}', 'Nov 22 09:00:00 gate kernel: x', '{broken', '[1]'].map(isJournalJson)).toEqual([true, true, false, false, false]);
  });

  it('gives the lines the live journal source would, kernel and sshd apart', () => {
    expect(journalJsonLines(EXPORT, 'knocks')).toEqual(['2026-11-22T09:00:00.100000+00:00 gate kernel: KNOCKWATCH SRC=203.0.113.7 DPT=7000']);
    expect(journalJsonLines(EXPORT, 'auth')).toEqual(['2026-11-22T09:00:00.300000+00:00 gate sshd[2211]: Accepted publickey for alice from 203.0.113.7 port 51234 ssh2']);
  });

  it('reads one line at a time', () => {
    expect(EXPORT.map((line) => journalJsonToLine(line, 'knocks'))).toEqual([
      '2026-11-22T09:00:00.100000+00:00 gate kernel: KNOCKWATCH SRC=203.0.113.7 DPT=7000', undefined, undefined, undefined, undefined,
    ]);
  });
});
