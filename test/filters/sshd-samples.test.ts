import { describe, expect, it } from 'vitest';
import { loadFilterFile, matchFilter } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { parseSyslogEnvelope } from '../../src/filters/syslog-envelope.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath, packageRoot } from '../../src/runtime/package-paths.js';
import { checkSample, readSamples } from '../helpers/samples.js';

const filter = loadFilterFile(builtinFilterPath('sshd'));
const samples = readSamples(`${packageRoot()}/logs-samples/sshd.log`);
const reference = Date.parse('2026-12-31T00:00:00Z');

describe('filters/sshd.conf against logs-samples/sshd.log', () => {
  it.each(samples.map((sample) => [sample.lineNumber, sample] as const))('sample on line %i', (_n, sample) => {
    const parse = createLineParser(filter, createSyslogTimeParser({ timeZone: 'UTC', reference }));
    checkSample(parse(sample.line), sample, (event, { time, ...fields }) => {
      expect(event.type).toBe('ssh');
      expect(event).toMatchObject(fields);
      if (time !== undefined) expect(new Date(event.time).toISOString()).toBe(time);
    });
  });

  it('has a sample for every failregex, and injection samples', () => {
    const rulesWithSample = new Set<number>();
    for (const sample of samples) {
      if (sample.expect.match !== true) continue;
      const envelope = parseSyslogEnvelope(sample.line);
      if (!envelope) continue;
      filter.rules.forEach((rule, index) => {
        if (matchFilter({ ...filter, rules: [rule] }, envelope.message)) rulesWithSample.add(index);
      });
    }
    filter.rules.forEach((rule, index) => expect(rulesWithSample.has(index), `failregex ${index + 1} (${rule.kind}) has no sample`).toBe(true));
    expect(samples.filter((sample) => sample.expect.injection === true).length).toBeGreaterThanOrEqual(6);
  });
});
