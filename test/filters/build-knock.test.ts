import { describe, expect, it } from 'vitest';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';

const filter = loadFilterFile(builtinFilterPath('netfilter'));
const parse = createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2026-12-31T00:00:00Z') }));
const line = (addresses: string, header: string): string =>
  `2026-11-22T01:47:00.000000+00:00 gate kernel: KNOCK IN=eth0 OUT= ${addresses} LEN=60 ${header} PROTO=TCP SPT=40015 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `;
const IPV4_HEADER = 'TOS=0x00 PREC=0x00 TTL=52 ID=17 DF';
const IPV6_HEADER = 'TC=0 HOPLIMIT=64 FLOWLBL=0';

describe('a netfilter LOG line with addresses of two families', () => {
  // One packet has one family: a line that mixes them was not written by the kernel.
  it.each([
    ['IPv4 source, IPv6 destination, IPv4 header', 'SRC=203.0.113.7 DST=2001:db8::1', IPV4_HEADER],
    ['IPv4 source, IPv6 destination, IPv6 header', 'SRC=203.0.113.7 DST=2001:db8::1', IPV6_HEADER],
    ['IPv6 source, IPv4 destination, IPv4 header', 'SRC=2001:db8::7 DST=192.0.2.1', IPV4_HEADER],
    ['IPv6 source, IPv4 destination, IPv6 header', 'SRC=2001:db8::7 DST=192.0.2.1', IPV6_HEADER],
  ])('is invalid: %s', (_case, addresses, header) => {
    expect(parse(line(addresses, header))).toEqual({ status: 'invalid', reason: 'source and destination families differ' });
  });

  // The same lines with one family each are knocks: only the mix is refused.
  it.each([
    ['SRC=203.0.113.7 DST=192.0.2.1', IPV4_HEADER, '203.0.113.7', '192.0.2.1'],
    ['SRC=2001:db8::7 DST=2001:db8::1', IPV6_HEADER, '2001:db8::7', '2001:db8::1'],
  ])('is a knock with %s', (addresses, header, src, dst) => {
    expect(parse(line(addresses, header))).toEqual({
      status: 'event',
      event: { type: 'knock', time: Date.parse('2026-11-22T01:47:00Z'), prefix: 'KNOCK', src, dst, proto: 'tcp', dport: 7000, spt: 40015, flags: 2, iface: 'eth0' },
    });
  });
});
