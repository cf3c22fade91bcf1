import { describe, expect, it } from 'vitest';
import { formatFlags, TcpFlag } from '../../src/filters/events.js';
import { loadFilterFile, type Filter } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath, packageRoot } from '../../src/runtime/package-paths.js';
import { checkSample, readSamples, rulesNoSampleNeeds } from '../helpers/samples.js';

const filter = loadFilterFile(builtinFilterPath('netfilter'));
const samples = readSamples(`${packageRoot()}/logs-samples/netfilter.log`);
const reference = Date.parse('2026-12-31T00:00:00Z');
const parserFor = (chosen: Filter) => createLineParser(chosen, createSyslogTimeParser({ timeZone: 'UTC', reference }));
const knockSamples = samples.filter((sample) => sample.expect.match === true);
const readable = samples.filter((sample) => sample.expect.match === true || sample.expect.other === true);

// The packet fields as a reader finds them in the line, word by word (not with the filter's
// regex): what every knock must carry even where its annotation does not spell it out.
function packetFields(line: string): Record<string, unknown> {
  const first = (key: string): string | undefined => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1];
  const proto = first('PROTO') ?? '';
  const flagWords = /RES=0x[0-9a-f]{2} ((?:[A-Z]+ )*)URGP=/.exec(line)?.[1]?.trim().split(' ') ?? [];
  // ICMP knocks carry their type and the IP packet's LEN= (the first one, not a quoted packet's).
  const icmp = proto.startsWith('ICMP') ? { icmpType: Number(first('TYPE')), len: Number(first('LEN')) } : {};
  return {
    ...icmp,
    src: first('SRC'),
    dst: first('DST'),
    proto: proto === 'TCP' ? 'tcp' : proto.startsWith('UDP') ? 'udp' : 'icmp',
    dport: Number(first('DPT') ?? 0),
    spt: Number(first('SPT') ?? 0),
    iface: /IN=(\S*) OUT=/.exec(line)?.[1],
    flags: formatFlags(flagWords.reduce((bits, word) => bits | (TcpFlag[word as keyof typeof TcpFlag] ?? 0), 0)),
  };
}

describe('filters/netfilter.conf against logs-samples/netfilter.log', () => {
  it.each(samples.map((sample) => [sample.lineNumber, sample] as const))('sample on line %i', (_n, sample) => {
    checkSample(parserFor(filter)(sample.line), sample, (event, { time, ...fields }) => {
      expect(event.type).toBe('knock');
      if (event.type !== 'knock') return;
      // The annotation wins where it says more (IPv6 addresses come out compressed).
      const { flags, ...expected } = { ...packetFields(sample.line), ...fields };
      expect(event).toMatchObject(expected);
      expect(formatFlags(event.flags)).toBe(flags);
      if (time !== undefined) expect(new Date(event.time).toISOString()).toBe(time);
    });
  });

  it('needs every failregex for some sample', () => {
    expect(rulesNoSampleNeeds(filter, samples, parserFor)).toEqual([]);
  });
});

// Each knock or other-protocol sample, forged: the same text from another program, or with
// a second address pair behind it. None may become a knock or be counted as a packet.
describe('forged copies of every knock and other-protocol sample', () => {
  it.each(readable.flatMap((sample) => [
    ['another tag', 'root:'],
    ['a tag that starts like the kernel\'s', 'kernel-helper:'],
    ['a program that prints "kernel:"', 'myapp[4242]: kernel:'],
  ].map(([what = '', tag = '']) => [sample.lineNumber, what, sample.line.replace(' kernel: ', ` ${tag} `)] as const)))('line %i, %s: ignored', (_n, _what, line) => {
    expect(parserFor(filter)(line)).toEqual({ status: 'ignored' });
  });

  it.each(readable.map((sample) => [sample.lineNumber, sample.line] as const))('line %i with a second SRC/DST pair behind it: missed', (_n, line) => {
    const forged = `${line.trimEnd()} SRC=198.51.100.66 DST=192.0.2.1 PROTO=TCP SPT=40014 DPT=7000`;
    expect(parserFor(filter)(forged)).toEqual({ status: 'missed' });
  });
});
