import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-cli-step-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'knockwatch.ini');
writeFileSync(config, `[options]
firewall = dry-run
log_prefix = KNOCK
[openSSH]
sequence = 7000,8000,9000
step_timeout = 5
[web]
sequence = 6000,6001
open = 443/tcp
`);

const line = (second: number, port: number) =>
  `2026-11-22T09:00:${String(second).padStart(2, '0')}.000000+00:00 gate kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${40000 + second} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;

describe('knockwatch check and replay: step_timeout', () => {
  it('prints step_timeout, and the seq_timeout it implies when only it is given', async () => {
    const log = join(dir, 'empty.log');
    writeFileSync(log, '');
    const result = await cli('check', '--config', config, '--log', log);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter((text) => /^ {2}(seq_timeout|step_timeout) /.test(text))).toEqual([
      '  seq_timeout        15s',
      '  step_timeout       5s (each step after the first within this of the one before)',
      '  seq_timeout        25s',
    ]);
  });

  it('words a break at a late step', async () => {
    const log = join(dir, 'kern.log');
    writeFileSync(log, [line(1, 7000), line(4, 8000), line(10, 9000)].join('\n') + '\n');
    const result = await cli('replay', '--config', config, log);
    expect(result.stdout).toContain('step-timeout: no step 3 within 5s of step 2');
  });
});
