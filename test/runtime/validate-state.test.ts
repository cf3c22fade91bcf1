import { describe, expect, it } from 'vitest';
import { validateState } from '../../src/runtime/validate-state.js';

const FILE = { dev: 2049, ino: 131, offset: 4096, firstLineHash: '' };
const KMSG = { kind: 'kmsg', boot: '3f1c2a8e-6d4b-4c1e-9b2a-0f3e5d7c9a11', seq: 41_233 };
const JOURNAL = { kind: 'journal', cursor: 's=8e2c;i=1a2b;b=3f1c;m=4d2e;t=5f3a;x=6b4c' };

function logsOf(logs: Record<string, unknown>): { logs: Record<string, unknown>; warnings: string[] } {
  const { state, warnings } = validateState({ version: 1, grants: [], logs });
  return { logs: state.logs, warnings };
}

describe('source positions in the state file', () => {
  it('keeps file, kmsg and journal positions side by side, field by field', () => {
    expect(logsOf({ '/var/log/kern.log': FILE, kmsg: { ...KMSG, extra: 'x' }, 'journal:sshd': JOURNAL, 'journal:kernel': { ...JOURNAL, directory: '/srv/j' } }))
      .toEqual({ logs: { '/var/log/kern.log': FILE, kmsg: KMSG, 'journal:sshd': JOURNAL, 'journal:kernel': { ...JOURNAL, directory: '/srv/j' } }, warnings: [] });
  });

  it('keeps a cursor of exactly 1 KiB and a sequence number of 0', () => {
    const cursor = 'c'.repeat(1024);
    expect(logsOf({ 'journal:kernel': { kind: 'journal', cursor }, kmsg: { ...KMSG, seq: 0 } }).logs)
      .toEqual({ 'journal:kernel': { kind: 'journal', cursor }, kmsg: { ...KMSG, seq: 0 } });
  });

  it.each([
    // kmsg: a boot id and a whole sequence number
    ['a negative sequence number', { kmsg: { ...KMSG, seq: -1 } }, 'logs["kmsg"]: seq: expected a kmsg sequence number (a whole number, 0 or more), found -1; dropped'],
    ['a fractional sequence number', { kmsg: { ...KMSG, seq: 1.5 } }, 'logs["kmsg"]: seq: expected a kmsg sequence number (a whole number, 0 or more), found 1.5; dropped'],
    ['a sequence number in a string', { kmsg: { ...KMSG, seq: '7' } }, 'logs["kmsg"]: seq: expected a kmsg sequence number (a whole number, 0 or more), found "7"; dropped'],
    ['no boot id', { kmsg: { kind: 'kmsg', seq: 7 } }, 'logs["kmsg"]: boot: expected a boot id (a string of at most 64 characters), found nothing; dropped'],
    ['a boot id that is a number', { kmsg: { ...KMSG, boot: 7 } }, 'logs["kmsg"]: boot: expected a boot id (a string of at most 64 characters), found 7; dropped'],
    // journal: a cursor, at most 1 KiB
    ['a cursor over 1 KiB', { 'journal:sshd': { kind: 'journal', cursor: 'c'.repeat(1025) } }, `logs["journal:sshd"]: cursor: expected a journal cursor (a string of at most 1 KiB), found "${'c'.repeat(39)}…; dropped`],
    ['a relative journal directory', { 'journal:sshd': { kind: 'journal', cursor: 'c', directory: 'srv/j' } }, 'logs["journal:sshd"]: directory: expected an absolute journal directory, found "srv/j"; dropped'],
    ['an empty cursor', { 'journal:sshd': { kind: 'journal', cursor: '' } }, 'logs["journal:sshd"]: cursor: expected a journal cursor (a string of at most 1 KiB), found ""; dropped'],
    ['a cursor that is a number', { 'journal:sshd': { kind: 'journal', cursor: 12 } }, 'logs["journal:sshd"]: cursor: expected a journal cursor (a string of at most 1 KiB), found 12; dropped'],
    // a kind nobody writes
    ['an unknown kind', { x: { kind: 'socket', cursor: 'c' } }, 'logs["x"]: kind: expected kmsg, journal or nothing (a file), found "socket"; dropped'],
    ['a kind that is no string', { x: { ...FILE, kind: 1 } }, 'logs["x"]: kind: expected kmsg, journal or nothing (a file), found 1; dropped'],
    // a file position still needs all its fields
    ['a file position with a cursor only', { x: { cursor: 'c' } }, 'logs["x"]: dev: expected a device or inode number (a whole number, 0 to 2^64), found nothing; dropped'],
  ])('drops %s with a warning and keeps the rest', (_name, spoiled, warning) => {
    expect(logsOf({ '/var/log/kern.log': FILE, ...spoiled })).toEqual({ logs: { '/var/log/kern.log': FILE }, warnings: [warning] });
  });
});
