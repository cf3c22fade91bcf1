import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveSequence } from '../../src/doors/rotating.js';
import { createDaemonLab, type DaemonLab } from '../helpers/daemon.js';

const HOUR = 1_699_999_200;
const SECRET = 'a long random secret';

const labs: DaemonLab[] = [];
afterEach(() => {
  for (const lab of labs.splice(0)) lab.cleanUp();
});

function knockLines(window: number, at: number): string {
  const ports = deriveSequence({ secret: Buffer.from(SECRET), door: 'rot', windowStart: HOUR + window * 3600, range: { low: 10000, high: 10999 }, length: 5, protocols: ['tcp'] });
  return ports.map((step, index) => `${new Date(at + index * 100).toISOString().replace('Z', '000+00:00')} gate kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=40000 DPT=${step.port} WINDOW=64240 RES=0x00 SYN URGP=0 \n`).join('');
}

function rotatingLab(start: number): DaemonLab {
  const lab = createDaemonLab(start, '');
  labs.push(lab);
  const secretFile = join(lab.dir, 'secret');
  writeFileSync(secretFile, SECRET);
  chmodSync(secretFile, 0o600);
  lab.writeConfig(`[options]\nfirewall = dry-run\n[rot]\nsecret_file = ${secretFile}\nrotate = 1h\nport_range = 10000-10999\nseq_timeout = 30\nopen = 22/tcp\n`);
  return lab;
}

// The daemon keeps each rotating door's latest window in its state file: after a restart
// with the host clock gone back, an old window (whose sequence may have been seen) opens
// nothing, and the daemon says why once.
describe('daemon and a rotating door\'s latest window', () => {
  it('saves it, and a restart with the clock gone back revives no older window', async () => {
    const start = (HOUR + 5 * 3600) * 1000 + 100_000;
    const lab = rotatingLab(start);
    const first = lab.daemon();
    await first.start();
    await lab.feed(first, knockLines(5, start));
    expect(lab.record().filter((line) => line.startsWith('+'))).toEqual(['+203.0.113.7 rot']);
    first.halt();
    expect((JSON.parse(readFileSync(lab.stateFile, 'utf8')) as { latestWindows: unknown }).latestWindows).toEqual({ rot: HOUR + 5 * 3600 });

    lab.setTime(HOUR * 1000 + 100_000);
    const second = lab.daemon();
    await second.start();
    await lab.feed(second, knockLines(0, HOUR * 1000 + 100_000));
    expect(second.grants()).toEqual([]);
    expect(lab.messages.filter((message) => message.includes('clock is behind'))).toEqual([
      `warning The clock is behind door rot's latest window (${new Date(HOUR * 1000).toISOString()} before ${new Date((HOUR + 5 * 3600) * 1000).toISOString()}): windows older than the latest minus skew are not accepted until it catches up.`,
    ]);
  });

  // A damaged or edited state file must not shut the door: the owner's knock still opens.
  it('drops a latest window far after the host clock, and the door opens', async () => {
    const start = HOUR * 1000 + 100_000;
    const lab = rotatingLab(start);
    writeFileSync(lab.stateFile, JSON.stringify({ version: 1, grants: [], bans: [], logs: {}, latestWindows: { rot: 32_503_680_000 } }));
    const daemon = lab.daemon();
    await daemon.start();
    await lab.feed(daemon, knockLines(0, start));
    expect(daemon.grants().map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(lab.messages.filter((message) => message.includes('latestWindows'))).toEqual([
      `warning Not restoring from ${lab.stateFile}: latestWindows["rot"]: 3000-01-01T00:00:00.000Z is more than a day after the host clock (${new Date(start).toISOString()}); dropped.`,
    ]);
  });
});
