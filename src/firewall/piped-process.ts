import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';

// A long-running firewall tool fed on its standard input (`nft -i`, `iptables-restore`), as
// both channels drive it.
export interface PipedProcess {
  pid: number | undefined;
  // `done` runs once the text has been handed to the pipe.
  write(text: string, done?: () => void): void;
  end(): void;
  kill(): void;
  onStderr(listener: (text: string) => void): void;
  // Called once, with why it ended ("exit status 1", "killed by SIGKILL", "nft not found").
  onExit(listener: (reason: string) => void): void;
}

// execa, argv array, no shell, spawned directly (its PID is the tool's own). It never keeps
// the daemon alive by itself (a batch in flight does, through its timer).
export function spawnPiped(command: readonly string[]): PipedProcess {
  const [file = '', ...args] = command;
  const child = execa(file, args, { stdin: 'pipe', stdout: 'ignore', stderr: 'pipe', buffer: false, reject: false, env: { LC_ALL: 'C' } });
  const stdin = child.stdin as Writable & { unref?: () => void };
  const stderr = child.stderr as Readable & { unref?: () => void };
  // Writing to a process that died: its exit says why.
  stdin.on('error', () => undefined);
  stderr.setEncoding('utf8');
  child.unref();
  stdin.unref?.();
  stderr.unref?.();
  return {
    pid: child.pid,
    write: (text, done) => {
      stdin.write(text, () => done?.());
    },
    end: () => stdin.end(),
    kill: () => child.kill('SIGKILL'),
    onStderr: (listener) => stderr.on('data', listener),
    onExit: (listener) => {
      void child.then((result) => {
        const code = (result as { code?: string }).code;
        if (code === 'ENOENT') listener(`${file} not found`);
        else if (result.signal !== undefined) listener(`killed by ${result.signal}`);
        else listener(`exit status ${result.exitCode ?? '?'}`);
      });
    },
  };
}

// Closes the process's input, waits up to `timeout` ms for it to end (`exited`), kills it
// when it does not.
export async function endOrKill(process: { end(): void; kill(): void }, exited: Promise<void>, timeout: number): Promise<void> {
  process.end();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeout);
  });
  if (await Promise.race([exited, late]) === 'late') {
    process.kill();
    await exited;
  }
  clearTimeout(timer);
}
