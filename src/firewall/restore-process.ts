import { readFileSync } from 'node:fs';
import { spawnPiped } from './piped-process.js';
import type { RestoreProcess } from './iptables-channel.js';

// read(2)'s number in /proc/PID/syscall, per architecture node runs on.
const READ_SYSCALL: Partial<Record<string, string>> = { x64: '0', arm64: '63', riscv64: '63', loong64: '63', ia32: '3', arm: '3', ppc64: '3', s390x: '3' };

// Whether the process sleeps in read(2) on fd 0: it has read and applied all its input.
function sleepsReadingInput(pid: number): boolean {
  try {
    const syscall = readFileSync(`/proc/${pid}/syscall`, 'utf8');
    if (!syscall.startsWith(`${READ_SYSCALL[process.arch] ?? '?'} 0x0 `)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'S';
  } catch {
    return false;
  }
}

// Whether this machine shows what a process is blocked in (Linux, a known architecture).
export function canWatchRestore(): boolean {
  return READ_SYSCALL[process.arch] !== undefined && readableSyscall();
}

function readableSyscall(): boolean {
  try {
    readFileSync('/proc/self/syscall', 'utf8');
    return true;
  } catch {
    return false;
  }
}

// The real process: execa, argv array, no shell, spawned directly (its PID is the one whose
// /proc entries are read; `ip netns exec` keeps the PID when it execs). It never keeps the
// daemon alive by itself (a batch in flight does, through its timer).
export function spawnRestore(command: readonly string[]): RestoreProcess {
  const process = spawnPiped(command);
  // Writes not yet handed to the pipe: until then a sleeping reader has not seen them.
  let unwritten = 0;
  return {
    ...process,
    write: (text) => {
      unwritten++;
      process.write(text, () => {
        unwritten--;
      });
    },
    settled: () => unwritten === 0 && process.pid !== undefined && sleepsReadingInput(process.pid),
  };
}
