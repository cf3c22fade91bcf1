import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAuthLines } from './generate-auth-log.js';

const SSHG_PARSER = '/usr/libexec/sshguard/sshg-parser';
const LINES = 200_000;
const RUNS = 3;

// Whole processes on the same auth log: `knockwatch replay --auth-log FILE` (an empty kernel
// log beside it) against sshguard's own parser reading the file on its standard input. Only
// the parser runs: no sshguard daemon, no blocker, nothing touches the firewall.
export function compareWithSshguard(): void {
  if (!existsSync(SSHG_PARSER)) {
    console.log(`sshguard: ${SSHG_PARSER} not installed, no side-by-side run (apt-get install sshguard)`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'knockwatch-sshg-'));
  try {
    const auth = join(dir, 'auth.log');
    const kern = join(dir, 'kern.log');
    writeFileSync(auth, `${generateAuthLines(LINES, Date.parse('2026-11-22T00:00:00Z')).join('\n')}\n`);
    writeFileSync(kern, '');
    const bin = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
    const knockwatch = medianSeconds(() => run(process.execPath, [bin, 'replay', kern, '--auth-log', auth, '--timezone', 'UTC']));
    const startup = medianSeconds(() => run(process.execPath, [bin, 'replay', kern, '--timezone', 'UTC']));
    const sshguard = medianSeconds(() => run(SSHG_PARSER, [], auth));
    console.log(`sshguard: ${LINES.toLocaleString('en')} sshd lines, whole processes, median of ${RUNS}: knockwatch replay ${knockwatch.toFixed(2)} s (of which start-up and config ${startup.toFixed(2)} s), sshg-parser ${sshguard.toFixed(2)} s: knockwatch ${(sshguard / knockwatch).toFixed(2)}x as fast (target >= 1.5x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], stdinFile?: string): void {
  const stdin = stdinFile === undefined ? 'ignore' : openSync(stdinFile, 'r');
  try {
    const result = spawnSync(command, args, { stdio: [stdin, 'ignore', 'pipe'] });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${String(result.status)}: ${result.stderr.toString().slice(0, 200)}`);
  } finally {
    if (typeof stdin === 'number') closeSync(stdin);
  }
}

function medianSeconds(task: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    task();
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}
