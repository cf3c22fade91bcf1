import { describe, expect, it } from 'vitest';
import { loadFilterFile, type Filter } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath, packageRoot } from '../../src/runtime/package-paths.js';
import { journalEntryToLine } from '../../src/sources/journal-entry.js';
import { checkSample, readSamples, rulesNoSampleNeeds } from '../helpers/samples.js';

const filter = loadFilterFile(builtinFilterPath('sshd'));
const samples = readSamples(`${packageRoot()}/logs-samples/sshd.log`);
const reference = Date.parse('2026-12-31T00:00:00Z');
const parserFor = (chosen: Filter) => createLineParser(chosen, createSyslogTimeParser({ timeZone: 'UTC', reference }));

describe('filters/sshd.conf against logs-samples/sshd.log', () => {
  it.each(samples.map((sample) => [sample.lineNumber, sample] as const))('sample on line %i', (_n, sample) => {
    checkSample(parserFor(filter)(sample.line), sample, (event, { time, ...fields }) => {
      expect(event.type).toBe('ssh');
      // The pid is sshd's, from the tag; a line the annotation gives no address (or client
      // port) has none.
      const tagged = / sshd(?:-session)?\[(\d+)\]: /.exec(sample.line)?.[1];
      const pid = tagged === undefined ? undefined : Number(tagged);
      expect(event).toMatchObject({ pid, src: undefined, port: undefined, ...fields });
      if (time !== undefined) expect(new Date(event.time).toISOString()).toBe(time);
    });
  });

  it('needs every failregex for some sample', () => {
    expect(rulesNoSampleNeeds(filter, samples, parserFor)).toEqual([]);
  });

  // timeOf moves time on for the last line of a batch and orders the logs of a replay: it
  // reads the stamp in place, and must read every stamp form the events are read from.
  it('gives each sample line the time of its event (timeOf)', () => {
    const wrong: string[] = [];
    for (const sample of samples) {
      const parse = parserFor(filter);
      const outcome = parse(sample.line);
      if (outcome.status === 'event' && parse.timeOf(sample.line) !== outcome.event.time) wrong.push(sample.line);
    }
    expect(wrong).toEqual([]);
  });
});

// Every sample with an address and a user name, with text after the name that looks like
// another address: the event stays the same, with the longer name, and the real address.
// sshd cuts a user name at its first ":", so a name with an IPv6 address in it is not
// sshd's: such a line must be no event at all.
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
    expect(parserFor(filter)(forged)).toEqual(user.includes(':') ? { status: 'missed' } : { status: 'event', event: { ...original.event, user } });
  });
});

// journalctl -o json records (the journal source) become syslog-shaped lines: the filter
// reads them as it reads auth.log.
describe('sshd lines from the journal', () => {
  const record = {
    __CURSOR: 's=1;i=3', __REALTIME_TIMESTAMP: '1795338000123456', _TRANSPORT: 'syslog', _HOSTNAME: 'gate',
    SYSLOG_IDENTIFIER: 'sshd-session', _PID: '4100', _UID: '0', _COMM: 'sshd-session', _SYSTEMD_UNIT: 'ssh.service',
  };
  it.each([
    ['error: maximum authentication attempts exceeded for invalid user xxx from 192.0.2.7 port 49941 ssh2 [preauth]', { class: 'failure', kind: 'max-attempts', src: '192.0.2.7' }],
    ['drop connection #0 from [2001:db8::5]:48602 on [2001:db8::1]:22 penalty: failed authentication', { class: 'noise', kind: 'penalty-drop', src: '2001:db8::5' }],
    ['Disconnected from user alice 203.0.113.7 port 51234', { class: 'logout', kind: 'disconnected', src: '203.0.113.7' }],
  ])('%s', (message, fields) => {
    const line = journalEntryToLine({ ...record, MESSAGE: message }, 'auth');
    expect(line).toBeDefined();
    expect(parserFor(filter)(line ?? '')).toEqual({ status: 'event', event: expect.objectContaining({ ...fields, pid: 4100, time: Date.parse('2026-11-22T09:00:00.123Z') + 0.456 }) });
  });
});
