import { describe, expect, it } from 'vitest';
import { formatFlags } from '../../src/filters/events.js';
import { loadFilterFile, matchFilter } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { parseSyslogEnvelope } from '../../src/filters/syslog-envelope.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath, packageRoot } from '../../src/runtime/package-paths.js';
import { checkSample, readSamples } from '../helpers/samples.js';

const filter = loadFilterFile(builtinFilterPath('netfilter'));
const samples = readSamples(`${packageRoot()}/logs-samples/netfilter.log`);
const reference = Date.parse('2026-12-31T00:00:00Z');

describe('filters/netfilter.conf against logs-samples/netfilter.log', () => {
  it.each(samples.map((sample) => [sample.lineNumber, sample] as const))('sample on line %i', (_n, sample) => {
    const parse = createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference }));
    checkSample(parse(sample.line), sample, (event, { time, flags, ...fields }) => {
      expect(event.type).toBe('knock');
      expect(event).toMatchObject(fields);
      if (time !== undefined) expect(new Date(event.time).toISOString()).toBe(time);
      if (flags !== undefined && event.type === 'knock') expect(formatFlags(event.flags)).toBe(flags);
    });
  });

  it('has a matching sample for every failregex and an injection sample', () => {
    const kindsWithSample = new Set<string>();
    for (const sample of samples) {
      if (sample.expect.match !== true) continue;
      const envelope = parseSyslogEnvelope(sample.line);
      const found = envelope && matchFilter(filter, envelope.message);
      if (found) kindsWithSample.add(found.kind);
    }
    for (const rule of filter.rules) expect(kindsWithSample, `failregex "${rule.kind}" has no sample`).toContain(rule.kind);
    expect(samples.some((sample) => sample.expect.injection === true && sample.expect.match === false)).toBe(true);
  });
});
