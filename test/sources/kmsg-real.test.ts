import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findProgram } from '../../src/firewall/select-backend.js';
import { systemClock } from '../../src/runtime/clock.js';
import { KmsgSource, kmsgReadable } from '../../src/sources/kmsg-source.js';

const problem = process.getuid?.() !== 0 ? 'not root'
  : kmsgReadable() ?? (!findProgram('unshare') || !findProgram('mount') ? 'no unshare or mount' : undefined);
if (problem !== undefined) console.warn(`Skipping the real /dev/kmsg test: ${problem}.`);

describe.skipIf(problem !== undefined)('the kmsg source on the real /dev/kmsg', () => {
  it('hands out a real kernel record and not one root wrote to /dev/kmsg', () => {
    const token = randomBytes(6).toString('hex');
    const lines: string[] = [];
    const source = new KmsgSource({ clock: systemClock, pollInterval: 60_000, onLines: (got) => lines.push(...got), onNotice: () => {} });
    source.start(undefined);
    try {
      // A forged knock: comes back with facility user.
      writeFileSync('/dev/kmsg', `<4>KW-TEST-${token} IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.1 PROTO=UDP SPT=1 DPT=7000\n`);
      // A real kernel record without a network: tmpfs logs an unknown mount option (in a
      // mount namespace of its own, and the mount fails anyway). It is in the log when
      // mount returns, after the forged one.
      try {
        execFileSync('unshare', ['--mount', 'mount', '-t', 'tmpfs', '-o', `kwtest_${token}`, 'none', '/mnt'], { stdio: 'ignore' });
      } catch {
        // the failure is the point
      }
      source.check();
    } finally {
      source.stop();
    }
    const ours = lines.filter((line) => line.includes(token));
    expect(ours).toEqual([expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\+00:00 kmsg kernel: tmpfs: Unknown parameter 'kwtest_${token}'$`))]);
    expect(Math.abs(Date.parse(ours[0]!.slice(0, 32)) - Date.now())).toBeLessThan(5_000);
  });
});
