import { describe, expect, it } from 'vitest';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';

const parse = createLineParser(loadFilterFile(builtinFilterPath('sshd')), createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2026-12-31T00:00:00Z') }));

describe('a line parser', () => {
  // fail2ban's sshd samples: old sshd wrote a blank after the address of a PAM failure.
  it.each(['', ' ', '  \t'])('reads a message that ends in blanks (%j) as the message without them', (blanks) => {
    const outcome = parse(`Dec 12 20:04:39 aragorn sshd[1328]: error: PAM: User not known to the underlying authentication module for illegal user kernelitshell from 10.215.4.227${blanks}`);
    expect(outcome).toMatchObject({ status: 'event', event: { class: 'failure', kind: 'pam-failure', src: '10.215.4.227', pid: 1328 } });
  });

  // `journalctl -u ssh -o short-precise`: the stamp's fraction is the event's.
  it('reads an sshd line with a traditional stamp and a fraction', () => {
    expect(parse('Nov 02 01:43:16.945087 gate sshd[1328]: Invalid user admin from 203.0.113.5 port 40022')).toMatchObject({
      status: 'event', event: { class: 'failure', src: '203.0.113.5', pid: 1328, time: Date.parse('2026-11-02T01:43:16.945Z') + 0.087 },
    });
  });

  it('reads no message in blanks alone', () => {
    expect(parse('Dec 12 20:04:39 aragorn sshd[1328]:  ')).toEqual({ status: 'missed' });
  });
});
