import { describe, expect, it } from 'vitest';
import { normalizeAddressAt } from '../../src/filters/kernel-address.js';
import { compileFilter, loadFilterFile } from '../../src/filters/load-filter.js';
import { createNetfilterScanner } from '../../src/filters/netfilter-scanner.js';
import { createLineParser, usesNetfilterScanner } from '../../src/filters/parse-line.js';
import { normalizeAddress } from '../../src/net/address.js';
import { builtinFilterPath, packageRoot } from '../../src/runtime/package-paths.js';
import { readFileSync } from 'node:fs';
import { readSamples } from '../helpers/samples.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { doorPorts, judgedByRegex, mutateText, netfilter, regexOnly, timeParser, withScanner } from '../helpers/netfilter-judge.js';

const filter = netfilter;
const confText = readFileSync(builtinFilterPath('netfilter'), 'utf8');
const samples = readSamples(`${packageRoot()}/logs-samples/netfilter.log`);
const ports = doorPorts;
const stamp = '2026-11-22T01:43:16.945087+00:00 gate kernel: [  504.570152] ';
const mac = 'MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00';

describe('which filters the scanner reads for', () => {
  it('reads for filters/netfilter.conf as shipped, under any file name', () => {
    expect(usesNetfilterScanner(filter)).toBe(true);
    expect(usesNetfilterScanner(compileFilter(confText, 'my-netfilter.conf'))).toBe(true);
  });

  // Any change to what decides a match turns it off: the regexes then read every line.
  it.each([
    ['an ignoreregex', confText.replace(/^ignoreregex =$/m, 'ignoreregex = ^.*DPT=7000 .*$')],
    ['another tag', confText.replace(/^tags = kernel$/m, 'tags = kernel, kern')],
    ['pid any', confText.replace(/^pid = none$/m, 'pid = any')],
    ['a narrower address', confText.replace('SRC=(?<src>[0-9a-fA-F:.]{2,45})', 'SRC=(?<src>[0-9.]{7,15})')],
  ])('not for a netfilter.conf with %s', (_what, text) => {
    expect(text).not.toBe(confText);
    const changed = compileFilter(text, 'netfilter.conf');
    expect(usesNetfilterScanner(changed)).toBe(false);
    expect(createLineParser(changed, timeParser())(`${stamp}KNOCK IN=eth0 OUT= ${mac} SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `))
      .toEqual(regexOnly(changed)(`${stamp}KNOCK IN=eth0 OUT= ${mac} SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `));
  });

  it('not for the sshd filter', () => {
    expect(usesNetfilterScanner(loadFilterFile(builtinFilterPath('sshd')))).toBe(false);
  });
});

describe('the scanner against the regexes', () => {
  // Lines of the shape knockwatch's own rules log: the scanner reads them itself.
  it.each([
    ['IPv4 TCP SYN', `${stamp}KNOCK IN=eth0 OUT= ${mac} SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=4711 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
    ['IPv4 UDP', `${stamp}KNOCK IN=eth0 OUT= ${mac} SRC=10.0.0.255 DST=192.0.2.1 LEN=29 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=UDP SPT=40000 DPT=9000 LEN=9 `],
    ['IPv6 TCP, full form', `${stamp}KW IN=eth0 OUT= ${mac} SRC=fd00:0231:0000:0000:0000:0000:0000:0002 DST=fd00:0231:0000:0000:0000:0000:0000:0001 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=493080 PROTO=TCP SPT=41298 DPT=7000 WINDOW=64800 RES=0x00 CWR ECE URG ACK PSH RST SYN FIN URGP=0 `],
    ['no kernel stamp, prefix glued to IN=, no MAC', '2026-11-22T01:43:16+01:00 gate kernel: DROP:IN=lo OUT= SRC=127.0.0.1 DST=127.0.0.1 LEN=60 TOS=0x10 PREC=0x00 TTL=64 ID=10 CE DF MF PROTO=TCP SPT=40008 DPT=7000 WINDOW=65495 RES=0x00 URGP=0'],
    ['traditional stamp, no prefix', 'Jan  7 09:58:47 gate kernel: [ 1234.567890] IN=eth0 OUT= MAC= SRC=203.0.113.9 DST=192.0.2.1 LEN=52 TOS=0x00 PREC=0x00 TTL=52 ID=4713 PROTO=UDP SPT=51002 DPT=22 LEN=32   '],
  ])('%s: read by the scanner, as the regex reads it', (_what, line) => {
    const scanned = createNetfilterScanner(timeParser())(line);
    expect(scanned?.status).toBe('event');
    expect(scanned).toEqual(regexOnly()(line));
  });

  // Lines the scanner leaves to the regexes: other shapes, and everything invalid (the
  // regex path words the reason).
  it.each([
    ['TCP options', `${stamp}KNOCK IN=eth0 OUT= ${mac} SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B4) `],
    ['decoded MAC', `${stamp}KNOCK IN=eth0 OUT= MACSRC=ae:db:78:ed:af:ea MACDST=be:87:d5:bc:f5:d8 MACPROTO=0800 SRC=10.209.0.1 DST=10.209.0.2 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40007 DPT=7002 WINDOW=1024 RES=0x00 SYN URGP=0 `],
    ['compressed IPv6', `${stamp}KNOCK IN=eth0 OUT= SRC=2001:db8::5 DST=2001:db8::1 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP SPT=1 DPT=9000 LEN=9 `],
    ['a port over 65535', `${stamp}KNOCK IN=eth0 OUT= SRC=203.0.113.20 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=18 DF PROTO=TCP SPT=40016 DPT=70000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
    ['an octet over 255', `${stamp}KNOCK IN=eth0 OUT= SRC=999.1.1.1 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=17 DF PROTO=TCP SPT=40015 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
    ['mixed families', `${stamp}KNOCK IN=eth0 OUT= SRC=203.0.113.20 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=18 DF PROTO=TCP SPT=1 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
    ['a tab in the kernel stamp', `2026-11-22T01:43:16.945087+00:00 gate kernel: [\t504.570152] KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
    // a line terminator in the prefix: the regexes' `.` stops there
    ['a carriage return in the prefix', `${stamp}KN\rOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
    ['a line separator in the prefix', `${stamp}KN\u2028OCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
    ['a kernel stamp of 11 digits', `2026-11-22T01:43:16.945087+00:00 gate kernel: [12345678901.570152] KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
    ['an impossible date', `2026-13-45T01:47:05.000000+00:00 gate kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.22 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=21 DF PROTO=TCP SPT=40020 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `],
  ])('%s: left to the regexes', (_what, line) => {
    expect(createNetfilterScanner(timeParser())(line)).toBeUndefined();
    expect(withScanner()(line)).toEqual(regexOnly()(line));
  });

  // The port is the first ` DPT=`'s, wherever it is; the scanner still reads its own.
  it.each([
    ['a port no door uses', `${stamp}KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7001 WINDOW=64240 RES=0x00 SYN URGP=0 `, 'otherPort'],
    ['a door port', `${stamp}KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `, 'event'],
    ['an unused port named in the prefix', `${stamp}DPT=1 IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `, 'otherPort'],
    ['a door port named in the prefix', `${stamp}X DPT=7000 IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7001 WINDOW=64240 RES=0x00 SYN URGP=0 `, 'event'],
    ['a door port in a traditional stamp', 'Jan DPT=7000:00 gate kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7001 WINDOW=64240 RES=0x00 SYN URGP=0 ', 'invalid'],
    ['a door port named in the prefix, another after it', `${stamp}X DPT=7000 IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=UDP SPT=51000 DPT=9000 LEN=9 `, 'event'],
    ['an unused port as the host name', '2026-11-22T01:43:16+00:00 DPT=1 kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 ', 'otherPort'],
  ])('%s: judged as the pre-filter judges it', (_what, line, status) => {
    const parser = withScanner();
    expect(parser.readKnockLine(line, ports).status).toBe(status);
    expect(parser.readKnockLine(line, ports)).toEqual(judgedByRegex(line));
    // the same line after another one, as the scanner keeps the last prefix
    const again = withScanner();
    again.readKnockLine(`${stamp}KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 `, ports);
    expect(again.readKnockLine(line, ports)).toEqual(judgedByRegex(line));
  });

  it('reads every sample as the regexes do', () => {
    const fast = withScanner();
    const slow = regexOnly();
    expect(samples.map((sample) => [sample.lineNumber, fast(sample.line)])).toEqual(samples.map((sample) => [sample.lineNumber, slow(sample.line)]));
    const judging = withScanner();
    // (an event outcome is read before the next line is)
    expect(samples.map((sample) => [sample.lineNumber, { ...judging.readKnockLine(sample.line, ports) }])).toEqual(samples.map((sample) => [sample.lineNumber, judgedByRegex(sample.line)]));
  });

  // Every sample, cut, spliced and mutated with the characters the formats hinge on:
  // whatever the scanner is sure of, the regexes must say the same.
  it('reads a mutated corpus of the samples as the regexes do', () => {
    const random = seededRandom(2026);
    const pieces = [' ', ':', '.', '0', '9', '00000', 'a', 'F', 'f', 'IN=', ' SRC=1.2.3.4', ' OUT=', 'DF ', 'URG ', 'x', '[', ']', '\t', '\r', '\u00a0', '\u2028', ' MAC=', ' LEN=9', 'PROTO=UDP ', '-', ' DPT=7000', 'DPT=1 ', ' DPT='];
    const corpus: string[] = [];
    for (const { line } of samples) {
      for (let n = 0; n < 150; n++) {
        corpus.push(mutateText(line, 1 + random(3), random, pieces));
      }
    }
    const fast = withScanner();
    const slow = regexOnly();
    const scanner = createNetfilterScanner(timeParser());
    const differing = corpus.filter((text) => !isDeepEqual(fast(text), slow(text)));
    expect(differing).toEqual([]);
    // The corpus reaches the scanner's own answers, not only its fallback: of its 12,450
    // lines (150 mutants of each of 83 samples) about 140 to 170 distinct ones, by the seed.
    expect(new Set(corpus.filter((text) => scanner(text)?.status === 'event')).size).toBeGreaterThan(100);
    // With the ports judged by the scanner: what the pre-filter and the regexes made of it.
    const judging = withScanner();
    expect(corpus.filter((text) => !isDeepEqual(judging.readKnockLine(text, ports), judgedByRegex(text)))).toEqual([]);
    expect(corpus.filter((text) => judging.readKnockLine(text, ports).status === 'otherPort').length).toBeGreaterThan(30);
  });
});

describe('addresses read in place', () => {
  it('gives what normalizeAddress gives, for full IPv6 forms with zero runs anywhere and for dotted quads', () => {
    const random = seededRandom(7);
    const texts: string[] = ['0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '0000:0000:0000:0000:0000:0000:0000:0000', '0000:0000:0000:0000:0000:ffff:0a00:0001', 'FD00:0231:0000:0000:0000:0000:0000:000g',
      // 39 characters with a colon fifth, the others out of place
      '0000:000000000:0000:0000:0000:0000:0000', '0000:0000:0000:0000:0000:0000:00000000:'];
    for (let n = 0; n < 2000; n++) {
      texts.push(Array.from({ length: 8 }, () => (random(3) === 0 ? random(65536) : 0).toString(16).padStart(4, '0')).map((group) => (random(2) === 0 ? group.toUpperCase() : group)).join(':'));
      texts.push(Array.from({ length: 4 }, () => String(random(300))).join('.'));
    }
    const line = (text: string) => `SRC=${text} DST=`;
    expect(texts.map((text) => normalizeAddressAt(line(text), 4, 4 + text.length))).toEqual(texts.map((text) => normalizeAddress(text)));
  });
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
