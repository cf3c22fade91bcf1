import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProgram } from '../src/firewall/find-program.js';

export interface Fail2banFigures {
  lines: number;
  matched: number;
  linesPerSecond: number;
}

// What fail2ban users would write for these LOG lines: the kernel tag, the address pair and
// the ports of a TCP or UDP packet.
const REGEX = String.raw`kernel: (?:\[\s*\d+\.\d+\] )?.*IN=\S* OUT=\S* .*SRC=<HOST> DST=\S+ .* PROTO=(?:TCP|UDP) SPT=\d+ DPT=\d+ `;

// fail2ban-regex over the first `lines` lines of a log, timed by its own "[processed in]"
// figure (its start-up is not counted); undefined when fail2ban-regex is not installed.
export function measureFail2banRegex(log: string, lines: number, dir: string): Fail2banFigures | undefined {
  if (!findProgram('fail2ban-regex')) return undefined;
  const head = join(dir, 'fail2ban-head.log');
  writeFileSync(head, headOf(log, lines));
  const run = spawnSync('fail2ban-regex', ['--print-no-missed', head, REGEX], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const counts = /Lines: (\d+) lines, \d+ ignored, (\d+) matched/.exec(run.stdout);
  const seconds = /\[processed in ([\d.]+) sec\]/.exec(run.stdout);
  if (counts === null || seconds === null) throw new Error(`fail2ban-regex: unexpected output: ${run.stdout.slice(-400)}${run.stderr.slice(-400)}`);
  const total = Number(counts[1]);
  return { lines: total, matched: Number(counts[2]), linesPerSecond: total / Number(seconds[1]) };
}

// The first `lines` lines of a log, read only as far as they go (the whole log would make
// this process, the parent of the replays, hundreds of MB larger).
function headOf(log: string, lines: number): Buffer {
  const fd = openSync(log, 'r');
  try {
    const chunks: Buffer[] = [];
    let seen = 0;
    for (;;) {
      const chunk = Buffer.alloc(1 << 20);
      const length = readSync(fd, chunk, 0, chunk.length, null);
      if (length === 0) return Buffer.concat(chunks);
      for (let at = chunk.indexOf(10); at !== -1 && at < length; at = chunk.indexOf(10, at + 1)) {
        if (++seen === lines) return Buffer.concat([...chunks, chunk.subarray(0, at + 1)]);
      }
      chunks.push(chunk.subarray(0, length));
    }
  } finally {
    closeSync(fd);
  }
}
