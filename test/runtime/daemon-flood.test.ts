import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { createDaemonLab, type DaemonLab } from '../helpers/daemon.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const CONFIG = `[options]
firewall = dry-run
log_prefix = KNOCK
trap_ports = 7500
[open]
sequence = 7000,8000,9000
seq_timeout = 25
open_for = 30
`;
const USER = '203.0.113.7';

// The i-th line of a flood at 100,000 lines/s from T0.
function floodLine(i: number, src: string, port: number): string {
  const second = String(Math.floor(i / 100_000)).padStart(2, '0');
  const micro = String((i % 100_000) * 10).padStart(6, '0');
  return `2026-11-22T09:00:${second}.${micro}+00:00 gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=40000 DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 \n`;
}
const spoofed = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

let lab: DaemonLab | undefined;
afterEach(() => lab?.cleanUp());

describe('a spoofed flood on the first knock port', () => {
  it('the live daemon opens for a user knocking 1.5 s apart amid 1,000,000 spoofed first knocks at 100,000/s, and summarises its log', async () => {
    lab = createDaemonLab(T0 + 10_000, CONFIG);
    const daemon = lab.daemon();
    await daemon.start();
    const userSteps = new Map([[500_000, 7000], [650_000, 8000], [800_000, 9000]]);
    const BATCH = 50_000;
    for (let from = 0; from < 1_000_000; from += BATCH) {
      let text = '';
      for (let i = from; i < from + BATCH; i++) {
        const port = userSteps.get(i);
        if (port !== undefined) text += floodLine(i, USER, port);
        text += floodLine(i, spoofed(i), 7000);
      }
      await lab.feed(daemon, text);
    }
    expect(lab.record().filter((entry) => entry.includes(USER))).toEqual([expect.stringMatching(/^\+.*203\.0\.113\.7/)]);
    lab.setTime(T0 + 61_000);
    daemon.poll();
    expect(lab.messages.length).toBeLessThan(200);
    expect(lab.messages.filter((m) => m.includes('Not logged one by one'))).toEqual([
      'info Not logged one by one in the minute from 2026-11-22T09:00:00.000Z (past 20 of a kind in 1 min): 999983 step.',
    ]);
  }, 120_000);
});

describe('a flood read at stop', () => {
  it('the reports the last read held back are summed up too', async () => {
    lab = createDaemonLab(T0 + 10_000, CONFIG);
    const daemon = lab.daemon();
    await daemon.start();
    let text = '';
    for (let i = 0; i < 25; i++) text += floodLine(i, spoofed(i), 7500);
    appendFileSync(lab.log, text);
    await daemon.stop('SIGTERM');
    expect(lab.messages.filter((m) => m.startsWith('notice Refusing'))).toHaveLength(20);
    expect(lab.messages.filter((m) => m.includes('Not logged one by one'))).toEqual([
      'info Not logged one by one in the minute from 2026-11-22T09:00:00.000Z (past 20 of a kind in 1 min): 5 trapped.',
    ]);
  });
});

describe('replay of a flood', () => {
  it('prints a few lines and a count per minute, not one line per spoofed source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-flood-'));
    try {
      writeFileSync(join(dir, 'knockwatch.ini'), CONFIG);
      let text = '';
      for (let i = 0; i < 5000; i++) text += floodLine(i, spoofed(i), 7500);
      text += floodLine(6000, USER, 7000) + floodLine(7000, USER, 8000) + floodLine(8000, USER, 9000);
      writeFileSync(join(dir, 'kern.log'), text);
      const { stdout } = await cli('replay', '--config', join(dir, 'knockwatch.ini'), '--timezone', 'UTC', join(dir, 'kern.log'));
      const timeline = stdout.split('\n').filter((line) => /^\d{4}-/.test(line));
      expect(timeline.filter((line) => line.includes(' TRAPPED '))).toHaveLength(20);
      expect(timeline.filter((line) => line.includes(' HELD '))).toEqual([expect.stringMatching(/ HELD +past 20 a minute of a kind: 4980 trapped$/)]);
      expect(timeline.filter((line) => line.includes(' OPEN '))).toEqual([expect.stringContaining(USER)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
