import { describe, expect, it } from 'vitest';
import { portKey } from '../../src/filters/destination-port.js';
import { createNetfilterScanner, type NetfilterScanner } from '../../src/filters/netfilter-scanner.js';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { readSamples } from '../helpers/samples.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { doorPorts, judgedByRegex, mutateText, regexOnly, timeParser, withScanner } from '../helpers/netfilter-judge.js';

// Lines of a shape the scanner has read before are read from a template of it
// (src/filters/knock-templates.ts): whatever a template answers, the pre-filter and the
// regexes must say the same.
const samples = readSamples(`${packageRoot()}/logs-samples/netfilter.log`);
const ports = doorPorts;
// A template's answer, with the port found as the pre-filter finds it (every port in use).
const everyPort = new Uint8Array(65536).fill(1);
const known = (scanner: NetfilterScanner, line: string) => scanner.known(line, portKey(line, everyPort));
// An event outcome is read before the next line is.
const copy = (outcome: unknown) => JSON.parse(JSON.stringify(outcome ?? 'none')) as unknown;

const mac4 = 'MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00';
const v4 = (fields: { stamp?: string; src?: string; tail?: string; len?: string; ip?: string; prefix?: string } = {}) =>
  `${fields.stamp ?? '2026-11-22T01:43:16.945087+00:00'} gate kernel: [  504.570152] ${fields.prefix ?? 'KNOCK '}IN=eth0 OUT= ${mac4} SRC=${fields.src ?? '203.0.113.7'} DST=192.0.2.1 LEN=${fields.len ?? '60'} ${fields.ip ?? 'TOS=0x00 PREC=0x00 TTL=52 ID=4711 DF'} PROTO=${fields.tail ?? 'TCP SPT=51000 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 '}`;
const v6 = (src: string, tail: string, ip = 'TC=0 HOPLIMIT=64 FLOWLBL=493080') =>
  `2026-11-22T01:43:16.957210+00:00 gate kernel: [  504.582284] KNOCK IN=kwp0 OUT= MAC=8e:7a:a5:44:89:ac:42:3b:5e:d0:d8:12:86:dd SRC=${src} DST=fd00:0231:0000:0000:0000:0000:0000:0001 LEN=80 ${ip} PROTO=${tail}`;

describe('lines of a shape read before', () => {
  it('are answered by the template, as the regexes answer them', () => {
    const scanner = createNetfilterScanner(timeParser());
    const first = v4();
    expect(known(scanner, first)).toBeUndefined();
    expect(scanner(first)?.status).toBe('event');
    const next = [
      v4({ src: '10.0.0.1', tail: 'TCP SPT=1 DPT=8000 WINDOW=0 RES=0x1f ACK FIN URGP=65535 ', ip: 'TOS=0x00 PREC=0x00 TTL=1 ID=0 DF' }),
      v4({ stamp: '2026-11-22T01:43:17.000001+00:00', tail: 'UDP SPT=40000 DPT=9000 LEN=9   ' }),
      v4({ tail: 'TCP SPT=65535 DPT=22 WINDOW=1 RES=0x00 CWR ECE URG ACK PSH RST SYN FIN URGP=0' }),
      v4({ tail: 'UDP SPT=0 DPT=65535 LEN=65535' }),
      // what the sender's packet decides: TOS, PREC, fragment flags
      v4({ ip: 'TOS=0x10 PREC=0xE0 TTL=52 ID=4711 CE DF MF' }),
      v4({ ip: 'TOS=0x00 PREC=0x00 TTL=52 ID=4711' }),
    ];
    expect(next.map((line) => copy(known(scanner, line)))).toEqual(next.map((line) => copy(regexOnly()(line))));
    // a port no door uses: the pre-filter's, before any template
    const parser = withScanner();
    parser.readKnockLine(first, ports);
    expect(parser.readKnockLine(v4({ tail: 'TCP SPT=1 DPT=7001 WINDOW=0 RES=0x00 SYN URGP=0 ' }), ports)).toEqual({ status: 'otherPort' });
  });

  // Each changes a text the template repeats, or a value beyond the shape: the template does
  // not answer, and the scanner or the regexes decide as before.
  it.each([
    ['another host', v4().replace(' gate ', ' gate2 ')],
    ['a pid on the tag', v4().replace('kernel:', 'kernel[1]:')],
    ['another prefix', v4({ prefix: 'KW ' })],
    ['no kernel stamp', v4().replace('[  504.570152] ', '')],
    ['a narrower kernel stamp, a longer prefix', v4().replace('[  504.570152] KNOCK', '[504.570152] XYKNOCK')],
    ['a kernel stamp of 11 digits', v4().replace('  504.570152', '12345678901.5')],
    ['a TTL of four digits', v4({ ip: 'TOS=0x00 PREC=0x00 TTL=5200 ID=4711 DF' })],
    ['an ID of six digits', v4({ ip: 'TOS=0x00 PREC=0x00 TTL=52 ID=471100 DF' })],
    ['an empty ID', v4({ ip: 'TOS=0x00 PREC=0x00 TTL=52 ID= DF' })],
    ['a lower-case TOS', v4({ ip: 'TOS=0x1f PREC=0x00 TTL=52 ID=4711 DF' })],
    ['four fragment flags', v4({ ip: 'TOS=0x00 PREC=0x00 TTL=52 ID=4711 CE DF MF DF' })],
    ['a LEN of six digits', v4({ len: '600000' })],
    ['a source port over 65535', v4({ tail: 'TCP SPT=65536 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 ' })],
    ['a destination port over 65535', v4({ tail: 'TCP SPT=1 DPT=70000 WINDOW=64240 RES=0x00 SYN URGP=0 ' })],
    ['a port of six digits', v4({ tail: 'TCP SPT=1 DPT=007000 WINDOW=64240 RES=0x00 SYN URGP=0 ' })],
    ['an unknown flag', v4({ tail: 'TCP SPT=1 DPT=7000 WINDOW=64240 RES=0x00 SYX URGP=0 ' })],
    ['nine flags', v4({ tail: 'TCP SPT=1 DPT=7000 WINDOW=64240 RES=0x00 SYN SYN SYN SYN SYN SYN SYN SYN SYN URGP=0 ' })],
    ['upper-case RES', v4({ tail: 'TCP SPT=1 DPT=7000 WINDOW=64240 RES=0x0A SYN URGP=0 ' })],
    ['TCP options after URGP', v4({ tail: 'TCP SPT=1 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B4) ' })],
    ['UDP with a TCP tail', v4({ tail: 'UDP SPT=1 DPT=7000 WINDOW=64240 RES=0x00 SYN URGP=0 ' })],
    ['ICMP', v4({ tail: 'ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ' })],
    ['an octet over 255', v4({ src: '256.0.113.7' })],
    ['a leading zero', v4({ src: '203.0.113.07' })],
    ['a short source', v4({ src: '1.2.3' })],
    ['an IPv6 source beside an IPv4 host', v4({ src: '2001:0db8:0000:0000:0000:0000:0000:0005' })],
    ['a carriage return at the end', `${v4()}\r`],
    ['an impossible date', v4({ stamp: '2026-13-45T01:43:16.945087+00:00' })],
    ['a stamp of another length', v4({ stamp: '2026-11-22T01:43:16+00:00' })],
    ['a traditional stamp', v4({ stamp: 'Nov 22 01:43:16' })],
    ['a space in the stamp', v4({ stamp: '2026-11-22T01:43:16 945087+00:00' })],
  ])('%s: judged as before', (_what, line) => {
    const primed = createNetfilterScanner(timeParser());
    primed(v4());
    expect(known(primed, line)).toBeUndefined();
    const parser = withScanner();
    parser.readKnockLine(v4(), ports);
    expect(copy(parser.readKnockLine(line, ports))).toEqual(copy(judgedByRegex(line)));
  });

  it('traditional stamps, the day in one character or two as in the template', () => {
    const one = createNetfilterScanner(timeParser());
    one(v4({ stamp: 'Aug 7 09:58:47' }));
    const lines = [v4({ stamp: 'Apr 9 23:59:59' }), v4({ stamp: 'Jan 1 00:00:00' })];
    expect(lines.map((line) => copy(known(one, line)))).toEqual(lines.map((line) => copy(regexOnly()(line))));
    expect(lines.every((line) => known(one, line) !== undefined)).toBe(true);
    expect(known(one, v4({ stamp: 'Jan  1 00:00:00' }))).toBeUndefined();
  });

  it('traditional stamps: the day in two characters as in the template', () => {
    const scanner = createNetfilterScanner(timeParser());
    scanner(v4({ stamp: 'Jan  7 09:58:47' }));
    const lines = [v4({ stamp: 'Feb 28 23:59:59' }), v4({ stamp: 'Dec 31 00:00:00' })];
    expect(lines.map((line) => copy(known(scanner, line)))).toEqual(lines.map((line) => copy(regexOnly()(line))));
    for (const stamp of ['Jan 7 09:58:47', 'Jan 7  09:58:47', 'Jan  7 09:58:4x', 'jan  7 09:58:47', 'Jan  7 25:58:47']) {
      const line = v4({ stamp });
      const parser = withScanner();
      parser.readKnockLine(v4({ stamp: 'Jan  7 09:58:47' }), ports);
      expect(copy(parser.readKnockLine(line, ports))).toEqual(copy(judgedByRegex(line)));
    }
  });

  // A sender that changes what a template repeats (its MAC, on a LAN) costs a new template at
  // most once every 256 lines the scanner reads.
  it('a new template at most once every 256 scanner reads after the first', () => {
    const scanner = createNetfilterScanner(timeParser());
    const withMac = (n: number) => v4().replace(mac4, `MAC=52:54:00:12:34:56:52:54:00:ab:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}:08:00`);
    scanner(withMac(0));
    expect(known(scanner, withMac(0))).toBeDefined();
    for (let n = 1; n < 256; n++) {
      expect(scanner(withMac(n))?.status).toBe('event');
      expect(known(scanner, withMac(n))).toBeUndefined();
    }
    scanner(withMac(256));
    expect(copy(known(scanner, withMac(256)))).toEqual(copy(regexOnly()(withMac(256))));
    expect(known(scanner, withMac(255))).toBeUndefined();
  });

  it('IPv6 sources in the full form only', () => {
    const scanner = createNetfilterScanner(timeParser());
    const tail = 'TCP SPT=41298 DPT=7000 WINDOW=64800 RES=0x00 SYN URGP=0 ';
    scanner(v6('fd00:0231:0000:0000:0000:0000:0000:0002', tail));
    const read = v6('FD00:0DB8:ABCD:0000:0000:0000:0000:0009', tail, 'TC=255 HOPLIMIT=1 FLOWLBL=1048575');
    expect(copy(known(scanner, read))).toEqual(copy(regexOnly()(read)));
    for (const src of ['fd00:0231:0000:0000:0000:0000:0000:000g', 'fd00:0231::2', '203.0.113.7']) expect(known(scanner, v6(src, tail))).toBeUndefined();
    expect(known(scanner, v6('fd00:0231:0000:0000:0000:0000:0000:0002', tail, 'TC=0 HOPLIMIT=64 FLOWLBL=12345678'))).toBeUndefined();
  });

  it('a prefix that names a DPT= is never a template (the pre-filter reads that one)', () => {
    const scanner = createNetfilterScanner(timeParser());
    const line = v4({ prefix: 'X DPT=1 ' });
    expect(scanner(line)?.status).toBe('event');
    expect(known(scanner, line)).toBeUndefined();
    const parser = withScanner();
    parser.readKnockLine(line, ports);
    expect(parser.readKnockLine(line, ports)).toEqual({ status: 'otherPort' });
  });

  it('a prefix with regex characters is matched as text', () => {
    const scanner = createNetfilterScanner(timeParser());
    scanner(v4({ prefix: '[a.b*c]+(d|e)?{2}^$\\/- ' }));
    expect(copy(known(scanner, v4({ prefix: '[a.b*c]+(d|e)?{2}^$\\/- ' })))).toEqual(copy(regexOnly()(v4({ prefix: '[a.b*c]+(d|e)?{2}^$\\/- ' }))));
    expect(known(scanner, v4({ prefix: 'aab*c]+(d|e)?{2}^$\\/- ' }))).toBeUndefined();
    expect(known(scanner, v4({ prefix: '[a.bbbc]+(d|e)?{2}^$\\/- ' }))).toBeUndefined();
  });

  // Every sample the scanner reads, then variants of it (cut, spliced, mutated with the
  // characters the format hinges on, numbers changed): each read by a parser that has just
  // read the sample.
  it('reads mutated variants of every sample as the regexes do', () => {
    const scanned = samples.filter(({ line }) => createNetfilterScanner(timeParser())(line)?.status === 'event');
    expect(scanned.length).toBeGreaterThan(15);
    const random = seededRandom(1811);
    const pieces = [' ', ':', '.', '0', '9', '00000', '65535', '65536', 'a', 'F', 'x', '[', ']', '=', '\t', 'DF ', 'SYN ', 'URG ', ' DPT=7000', ' DPT=1', 'DPT=', 'PROTO=UDP ', ' LEN=9', '255', '256'];
    const digitRun = /\d+/g;
    const variants: { sample: string; line: string }[] = [];
    for (const { line } of scanned) {
      for (let n = 0; n < 200; n++) {
        let text = line;
        if (n % 3 === 2) {
          // another value for the fields a template reads anew
          text = text.replace(/ (SPT|DPT|LEN|TTL|ID|TC|HOPLIMIT|FLOWLBL|WINDOW|URGP)=\d+/g, (field, key: string) => (random(2) === 0 ? field : ` ${key}=${String(random(10 ** (1 + random(7))))}`));
          text = text.replace(/ SRC=[\d.]+ /, (field) => (random(2) === 0 ? field : ` SRC=${Array.from({ length: 4 }, () => String(random(300))).join('.')} `));
        } else if (n % 3 === 0) {
          // another value in one or two of its numbers
          const runs = [...text.matchAll(digitRun)];
          for (let edits = 1 + random(2); edits > 0 && runs.length > 0; edits--) {
            const run = runs[random(runs.length)] as RegExpMatchArray;
            const value = String([random(10), random(300), random(70_000), random(10_000_000)][random(4)]);
            text = text.slice(0, run.index) + value + text.slice((run.index ?? 0) + run[0].length);
          }
        } else {
          text = mutateText(text, 1 + random(2), random, pieces);
        }
        variants.push({ sample: line, line: text });
      }
    }
    const differing: string[] = [];
    let answered = 0;
    for (const { sample, line } of variants) {
      const parser = withScanner();
      parser.readKnockLine(sample, ports);
      if (!isDeepEqual(parser.readKnockLine(line, ports), judgedByRegex(line))) differing.push(line);
      const scanner = createNetfilterScanner(timeParser());
      scanner(sample);
      if (known(scanner, line) !== undefined) answered++;
    }
    expect(differing).toEqual([]);
    // The variants reach the templates' own answers, not only their refusals.
    expect(answered).toBeGreaterThan(400);
    expect(variants.length - answered).toBeGreaterThan(2000);
  });
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
