import { describe, expect, it } from 'vitest';
import { detectKmsgDump, kmsgDumpToLines } from '../../src/sources/kmsg-dump.js';

// 2026-11-22T07:56:27.000Z, the wall time of the last record
const LAST = 1_795_334_187_000;
const KNOCK = 'knockwatch IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.1 LEN=60 PROTO=TCP SPT=38101 DPT=7000 SYN URGP=0 ';
const EXPECTED = [
  '2026-11-22T07:56:25.999999+00:00 kmsg kernel: Linux version 6.1.0',
  `2026-11-22T07:56:27.000000+00:00 kmsg kernel: ${KNOCK}`,
];

describe('a kernel log dump read for replay', () => {
  it.each([
    // a copy of /dev/kmsg, with a dictionary line and a user record
    ['/dev/kmsg', ['5,0,1000000,-;Linux version 6.1.0', ' SUBSYSTEM=cpu', '12,1,1500000,-;KW-TEST SRC=203.0.113.9', `4,2,2000001,-;${KNOCK}`]],
    // `dmesg --syslog --raw` (true PRI: user space is <12>)
    ['dmesg --raw', ['<5>[    1.000000] Linux version 6.1.0', '<12>[    1.500000] KW-TEST SRC=203.0.113.9', `<4>[    2.000001] ${KNOCK}`]],
  ])('from %s: kernel records only, placed before the last one by their monotonic time', (_, lines) => {
    expect(kmsgDumpToLines(lines, LAST)).toEqual(EXPECTED);
  });

  it('anchors the times on the last record even when it is not the kernel\'s', () => {
    expect(kmsgDumpToLines(['<4>[    1.000000] knock', '<14>[    3.000000] user'], LAST)).toEqual([
      '2026-11-22T07:56:25.000000+00:00 kmsg kernel: knock',
    ]);
  });

  it('blanks control characters in a message', () => {
    expect(kmsgDumpToLines(['<4>[    1.000000] a\x1bb\rc'], LAST)).toEqual(['2026-11-22T07:56:27.000000+00:00 kmsg kernel: a b c']);
  });

  it('gives nothing for a file without records', () => {
    expect(kmsgDumpToLines(['', 'Nov 22 07:56:27 host kernel: x'], LAST)).toEqual([]);
  });

  it.each([
    [['<4>[    2.000001] knock'], true],
    [['', '4,2,2000001,-;knock'], true],
    [['6,339,5140900,-,caller=T1;usb', ' SUBSYSTEM=usb'], true],
    // syslog files, journal exports, nothing
    [['Nov 22 07:56:27 host kernel: [ 2.000001] knock'], false],
    [['2026-11-22T07:56:27.000000+00:00 host kernel: knock'], false],
    [['{"__CURSOR":"s=1"}'], false],
    [['', ''], false],
    [[], false],
  ])('%j is a kernel log dump: %s', (lines, expected) => {
    expect(detectKmsgDump(lines)).toBe(expected);
  });
});
