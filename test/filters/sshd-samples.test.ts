import { describe, expect, it } from 'vitest';
import { loadFilterFile, type Filter } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath, packageRoot } from '../../src/runtime/package-paths.js';
import { checkSample, readSamples, rulesNoSampleNeeds } from '../helpers/samples.js';

const filter = loadFilterFile(builtinFilterPath('sshd'));
const samples = readSamples(`${packageRoot()}/logs-samples/sshd.log`);
const reference = Date.parse('2026-12-31T00:00:00Z');
const parserFor = (chosen: Filter) => createLineParser(chosen, createSyslogTimeParser({ timeZone: 'UTC', reference }));

describe('filters/sshd.conf against logs-samples/sshd.log', () => {
  it.each(samples.map((sample) => [sample.lineNumber, sample] as const))('sample on line %i', (_n, sample) => {
    checkSample(parserFor(filter)(sample.line), sample, (event, { time, ...fields }) => {
      expect(event.type).toBe('ssh');
      // The pid is sshd's, from the tag; a line the annotation gives no address has none.
      const pid = Number(/ sshd(?:-session)?\[(\d+)\]: /.exec(sample.line)?.[1]);
      expect(event).toMatchObject({ pid, src: undefined, ...fields });
      if (time !== undefined) expect(new Date(event.time).toISOString()).toBe(time);
    });
  });

  it('needs every failregex for some sample', () => {
    expect(rulesNoSampleNeeds(filter, samples, parserFor)).toEqual([]);
  });
});

// Every sample with an address and a user name, with text after the name that looks like
// another address: the event stays the same, with the longer name, and the real address.
describe('user names that smuggle in another address', () => {
  const withUser = samples.filter((sample) => sample.expect.match === true && typeof sample.expect.user === 'string' && typeof sample.expect.src === 'string');
  it.each(withUser.flatMap((sample) => [
    ' from 198.51.100.99',
    ' from 198.51.100.99 port 22',
    ' from 198.51.100.99 port 22 ssh2',
    ' 198.51.100.99 port 22',
    ' from [2001:db8::99] port 22',
  ].map((suffix) => [sample.lineNumber, suffix, sample] as const)))('line %i, user name + "%s"', (_n, suffix, sample) => {
    const user = `${String(sample.expect.user)}${suffix}`;
    const at = sample.line.indexOf(']: ') + ']: '.length;
    const [head, message] = [sample.line.slice(0, at), sample.line.slice(at)];
    expect(message).toContain(` ${String(sample.expect.user)} `);
    const forged = head + message.replace(` ${String(sample.expect.user)} `, ` ${user} `);
    const original = parserFor(filter)(sample.line);
    expect(original.status).toBe('event');
    if (original.status !== 'event') return;
    expect(parserFor(filter)(forged)).toEqual({ status: 'event', event: { ...original.event, user } });
  });
});
