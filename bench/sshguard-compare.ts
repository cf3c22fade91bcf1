import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAuthLines } from './generate-auth-log.js';

const SSHG_PARSER = '/usr/libexec/sshguard/sshg-parser';
// GNU time, for each process's CPU seconds: on a shared machine they vary far less than its
// wall time.
const GNU_TIME = '/usr/bin/time';
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
    // The command itself, as an admin runs it (its shebang's node flags included).
    const bin = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
    const cpuFile = join(dir, 'cpu');
    const knockwatch = medianSeconds(() => run(bin, ['replay', kern, '--auth-log', auth, '--timezone', 'UTC'], cpuFile));
    const startup = medianSeconds(() => run(bin, ['replay', kern, '--timezone', 'UTC'], cpuFile));
    const sshguard = medianSeconds(() => run(SSHG_PARSER, [], cpuFile, auth));
    const seconds = (times: Times): string => `${times.wall.toFixed(2)} s${times.cpu === undefined ? '' : `, CPU ${times.cpu.toFixed(2)} s`}`;
    const cpuRatio = knockwatch.cpu === undefined || sshguard.cpu === undefined ? '' : `, by CPU ${(sshguard.cpu / knockwatch.cpu).toFixed(2)}x`;
    console.log(`sshguard: ${LINES.toLocaleString('en')} sshd lines, whole processes, median of ${RUNS}: knockwatch replay ${seconds(knockwatch)} (start-up and config alone ${seconds(startup)}); sshg-parser ${seconds(sshguard)}: knockwatch ${(sshguard.wall / knockwatch.wall).toFixed(2)}x as fast${cpuRatio} (target >= 1.5x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Times {
  wall: number;
  // User and system seconds, when GNU time is installed.
  cpu: number | undefined;
}

// Runs a command to its end; its CPU seconds, read through GNU time when installed.
function run(command: string, args: string[], cpuFile: string, stdinFile?: string): number | undefined {
  const stdin = stdinFile === undefined ? 'ignore' : openSync(stdinFile, 'r');
  const timed = existsSync(GNU_TIME);
  try {
    const result = timed
      ? spawnSync(GNU_TIME, ['-f', '%U %S', '-o', cpuFile, command, ...args], { stdio: [stdin, 'ignore', 'pipe'] })
      : spawnSync(command, args, { stdio: [stdin, 'ignore', 'pipe'] });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${String(result.status)}: ${result.stderr.toString().slice(0, 200)}`);
  } finally {
    if (typeof stdin === 'number') closeSync(stdin);
  }
  if (!timed) return undefined;
  const [user, system] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number);
  return (user ?? 0) + (system ?? 0);
}

function medianSeconds(task: () => number | undefined): Times {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const cpu = task();
    walls.push((performance.now() - started) / 1000);
    if (cpu !== undefined) cpus.push(cpu);
  }
  return { wall: median(walls) ?? 0, cpu: median(cpus) };
}

function median(values: number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
