import { afterEach, describe, expect, it } from 'vitest';
import { createDaemonLab, type DaemonLab } from '../helpers/daemon.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const DAY = 86_400_000;
const CONFIG = '[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 30\n';
const REPORT = (future: number, past: number): string =>
  `warning Not acting on ${future + past} log lines stamped too far from the host clock (${future} more than 60s ahead, ${past} more than 10 min behind): forged lines, another program's lines or a clock step.`;

const labs: DaemonLab[] = [];
afterEach(() => {
  for (const lab of labs.splice(0)) lab.cleanUp();
});

function knockLines(at: number): string {
  return [7000, 8000].map((port, index) => `${new Date(at + index * 100).toISOString().replace('Z', '000+00:00')} gate kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${40000 + port} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 \n`).join('');
}

describe('daemon and lines stamped far from the host clock', () => {
  it('opens nothing for them and sums them up at most once a minute', async () => {
    const lab = createDaemonLab(T0, CONFIG);
    labs.push(lab);
    const daemon = lab.daemon();
    await daemon.start();
    const reports = (): string[] => lab.messages.filter((message) => message.includes('too far from the host clock'));
    await lab.feed(daemon, knockLines(T0 + DAY));
    expect(reports()).toEqual([REPORT(2, 0)]);
    lab.setTime(T0 + 30_000);
    await lab.feed(daemon, knockLines(T0 + DAY));
    // Within the minute: counted, not reported again.
    expect(reports()).toEqual([REPORT(2, 0)]);
    // Twenty minutes on, a line from the first minute (knocks from before the start would be
    // stale instead).
    lab.setTime(T0 + 20 * 60_000);
    await lab.feed(daemon, knockLines(T0 + 60_000));
    expect(reports()).toEqual([REPORT(2, 0), REPORT(2, 2)]);
    expect(daemon.grants()).toEqual([]);
    expect(lab.record()).toEqual(['start 0']);
  });
});
