import { describe, expect, it } from 'vitest';
import { parseSyslogEnvelope } from '../../src/filters/syslog-envelope.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { isKernelRecord, kmsgLine, parseKmsgRecord } from '../../src/sources/kmsg-record.js';

const KNOCK = 'knockwatch IN=eth0 OUT= MAC=5e:55 SRC=203.0.113.7 DST=10.0.0.1 LEN=60 PROTO=TCP SPT=38101 DPT=7000 SYN URGP=0 ';

describe('a /dev/kmsg record', () => {
  it.each([
    // a netfilter LOG record: facility 0 (kernel), level 4
    [`4,1962,8265857787,-;${KNOCK}`, { facility: 0, level: 4, seq: 1962, usec: 8265857787, message: KNOCK }],
    // written to /dev/kmsg from user space with <4>: facility 1 (user)
    ['12,1964,8373179312,-;KW-TEST SRC=203.0.113.7', { facility: 1, level: 4, seq: 1964, usec: 8373179312, message: 'KW-TEST SRC=203.0.113.7' }],
    // more header fields after FLAGS, and a `;` in the message
    ['6,339,5140900,c,caller=T1;a;b', { facility: 0, level: 6, seq: 339, usec: 5140900, message: 'a;b' }],
    // dictionary lines after the record are not the message
    ['6,340,5140901,-;usb 1-1: new device\n SUBSYSTEM=usb\n DEVICE=c189:1\n', { facility: 0, level: 6, seq: 340, usec: 5140901, message: 'usb 1-1: new device' }],
    // an empty message
    ['3,0,0,-;', { facility: 0, level: 3, seq: 0, usec: 0, message: '' }],
  ])('reads %j', (text, expected) => {
    expect(parseKmsgRecord(text)).toEqual(expected);
  });

  it.each([
    [''],
    ['hello'],
    // too few header fields
    ['4,1,2;msg'],
    // fields that are not decimal numbers
    ['a,1,2,-;msg'],
    ['4,-1,2,-;msg'],
    ['4,1,2.5,-;msg'],
    ['4,1,,-;msg'],
    ['99999999999999999,1,2,-;msg'],
    // a dictionary line alone, and a `;` only after the first line
    [' SUBSYSTEM=usb'],
    ['4,1,2,-\n;msg'],
  ])('refuses %j', (text) => {
    expect(parseKmsgRecord(text)).toBeUndefined();
  });

  it.each([
    [0, true],
    [1, false],
    [3, false],
  ])('facility %i is the kernel: %s', (facility, kernel) => {
    expect(isKernelRecord({ facility })).toBe(kernel);
  });
});

describe('the line a kmsg record becomes', () => {
  it('is a kernel line of host kmsg, stamped to the microsecond in UTC', () => {
    const line = kmsgLine(1_795_334_187_640_073, KNOCK);
    expect(line).toBe(`2026-11-22T07:56:27.640073+00:00 kmsg kernel: ${KNOCK}`);
    expect(parseSyslogEnvelope(line)).toEqual({ stamp: '2026-11-22T07:56:27.640073+00:00', host: 'kmsg', tag: 'kernel', pid: undefined, message: KNOCK });
    expect(createSyslogTimeParser({ reference: 1_795_334_187_640 })('2026-11-22T07:56:27.640073+00:00')).toBeCloseTo(1_795_334_187_640.073, 6);
  });

  it('pads the microseconds of a whole millisecond', () => {
    expect(kmsgLine(1_795_334_187_000_004, 'm')).toBe('2026-11-22T07:56:27.000004+00:00 kmsg kernel: m');
  });

  it('blanks control characters and keeps the kernel\'s \\xHH escapes', () => {
    const line = kmsgLine(1_795_334_187_640_073, 'a\x1b[31m\rb\nc\x7fd\x00e \\x0a f');
    expect(line).toBe('2026-11-22T07:56:27.640073+00:00 kmsg kernel: a [31m b c d e \\x0a f');
  });
});
