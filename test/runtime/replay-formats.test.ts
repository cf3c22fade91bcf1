import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';
import { replayFiles } from '../../src/runtime/replay.js';
import { config } from '../helpers/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-replay-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-22T09:00:00Z');
const X = '203.0.113.7';
const CONFIG = config('[options]\nfirewall = dry-run\n[open]\nsequence = 7000,8000,9000:udp\nseq_timeout = 5\nopen = 22/tcp\nopen_for = 30\n');
// Three knocks 300 ms apart, as the kernel writes them.
const MESSAGES = [['7000', 'TCP'], ['8000', 'TCP'], ['9000', 'UDP']].map(([port, proto], i) => {
  const tail = proto === 'UDP' ? `PROTO=UDP SPT=40000 DPT=${port} LEN=9` : `PROTO=TCP SPT=${41000 + i} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0`;
  return { at: T0 + i * 300, text: `knockwatch IN=eth0 OUT= SRC=${X} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF ${tail} ` };
});

async function decisionsOf(file: string): Promise<string[]> {
  const decisions: Decision[] = [];
  await replayFiles({
    files: [file], config: CONFIG, filter: loadFilterFile(builtinFilterPath('netfilter')), timeZone: 'UTC',
    clock: { now: () => T0 }, sink: (decision) => decisions.push(decision),
  });
  return decisions.map((decision) => `${new Date(decision.time).toISOString()} ${decision.type} ${decision.src}`);
}

function write(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('replay of what the kmsg and journal sources read', () => {
  const syslog = write('kern.log', MESSAGES.map(({ at, text }) => `${new Date(at).toISOString()} gate kernel: ${text}`));
  const expected = [
    `2026-11-22T09:00:00.000Z step ${X}`,
    `2026-11-22T09:00:00.300Z step ${X}`,
    `2026-11-22T09:00:00.600Z step ${X}`,
    `2026-11-22T09:00:00.600Z completed ${X}`,
    `2026-11-22T09:00:00.600Z open ${X}`,
  ];

  it('decides on a syslog file as before', async () => {
    expect(await decisionsOf(syslog)).toEqual(expected);
  });

  it('decides alike on a /dev/kmsg dump (its last record at the file time), and ignores user records in it', async () => {
    const boot = 5_000_000_000; // µs since boot of the first knock
    const dump = write('kmsg.dump', [
      `12,40,${boot - 1000},-;${MESSAGES[0]!.text.replace(X, '198.51.100.9')}`,
      ...MESSAGES.map(({ at, text }, i) => `4,${41 + i},${boot + (at - T0) * 1000},-;${text}`),
    ]);
    utimesSync(dump, new Date(MESSAGES[2]!.at), new Date(MESSAGES[2]!.at));
    expect(await decisionsOf(dump)).toEqual(expected);
  });

  it('decides alike on a journalctl -o json export, and ignores entries that are not the kernel\'s', async () => {
    const entry = (at: number, text: string, facility: string): string => JSON.stringify({
      __CURSOR: `s=1;i=${at}`, __REALTIME_TIMESTAMP: String(at * 1000), _TRANSPORT: 'kernel', SYSLOG_FACILITY: facility,
      SYSLOG_IDENTIFIER: 'kernel', _HOSTNAME: 'gate', MESSAGE: text,
    });
    const exported = write('journal.json', [
      entry(T0 - 1, MESSAGES[0]!.text.replace(X, '198.51.100.9'), '1'),
      ...MESSAGES.map(({ at, text }) => entry(at, text, '0')),
    ]);
    expect(await decisionsOf(exported)).toEqual(expected);
  });
});
