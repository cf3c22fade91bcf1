import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDaemonLab } from '../helpers/daemon.js';
import { T0 } from '../helpers/reload-race.js';

const CONFIG = '[options]\nfirewall = dry-run\nmaxretry = 2\nbantime = 10s\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 1h\n';
const A = '198.51.100.9';

const failure = (at: number, pid: number): string => `${new Date(at).toISOString().replace('Z', '000+00:00')} gate sshd[${pid}]: Failed password for root from ${A} port ${40000 + pid} ssh2\n`;

// A repeat offender's ban doubles even when its first ban ended before a restart: the count
// of bans outlives the ban, in the state file too.
describe('daemon, a repeat offender and a restart', () => {
  it('doubles the ban after a restart from the state file written once the first ban ended', async () => {
    const lab = createDaemonLab(T0, CONFIG, true);
    try {
      const first = lab.daemon();
      await first.start();
      await lab.feed(first, failure(T0 + 1000, 601) + failure(T0 + 2000, 602), lab.authLog);
      lab.setTime(T0 + 20_000);
      first.poll();
      await first.settle();
      first.poll();
      const saved = JSON.parse(readFileSync(lab.stateFile, 'utf8')) as { bans: unknown[]; offenses?: unknown[] };
      expect(saved.bans).toEqual([]);
      first.halt();

      lab.setTime(T0 + 30_000);
      const second = lab.daemon();
      await second.start();
      await lab.feed(second, failure(T0 + 30_000, 603) + failure(T0 + 31_000, 604), lab.authLog);
      expect(lab.messages.filter((message) => message.startsWith('notice Banned'))).toEqual([
        `notice Banned ${A} until ${new Date(T0 + 12_000).toISOString()}: 2 failed logins.`,
        `notice Banned ${A} until ${new Date(T0 + 51_000).toISOString()}: 2 failed logins (offense 2).`,
      ]);
    } finally {
      lab.cleanUp();
    }
  });
});
