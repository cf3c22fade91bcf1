import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Daemon } from '../../src/runtime/daemon.js';

export const T0 = Date.parse('2026-11-22T09:00:00Z');

// A kernel LOG line of one knock; `step` is "7000" or "9000/udp".
export function kernLine(at: number, src: string, step: string, spt: number): string {
  const [port, proto] = step.split('/');
  const tail = proto === 'udp' ? `PROTO=UDP SPT=${spt} DPT=${port} LEN=9` : `PROTO=TCP SPT=${spt} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0`;
  return `${new Date(at).toISOString().replace('Z', '000+00:00')} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF ${tail} \n`;
}

// Step 0, 1 or 2 of 7000,8000,9000:udp from `src`, 300 ms apart from T0 + 1 s.
export function knockLine(src: string, step: number): string {
  return kernLine(T0 + 1000 + step * 300, src, ['7000', '8000', '9000/udp'][step] ?? '', step === 2 ? 40000 : 41000 + step);
}

// `count` sources knock, one log line at a time; a reload comes every `reloadEvery` lines,
// each while the previous one may still be installing; 50 in all.
export async function knockThroughReloads(daemon: Daemon, log: string, count: number, reloadEvery: number): Promise<string[]> {
  const sources = Array.from({ length: count }, (_, i) => `198.51.${Math.floor(i / 200)}.${(i % 200) + 1}`);
  const reloads: Promise<boolean>[] = [];
  let lines = 0;
  for (let step = 0; step < 3; step++) {
    for (const src of sources) {
      appendFileSync(log, knockLine(src, step));
      daemon.poll();
      if (++lines % reloadEvery === 0) reloads.push(daemon.reload());
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  expect(reloads).toHaveLength(50);
  expect(await Promise.all(reloads)).toEqual(reloads.map(() => true));
  daemon.poll();
  await daemon.settle();
  return sources;
}

