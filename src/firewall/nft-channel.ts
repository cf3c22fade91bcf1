// One long-running `nft -i` for the per-change set element commands.
//
// Found on nftables 1.0.6 (Debian 12), commands piped to `nft -i` (not a tty), in a namespace:
// - no prompt and nothing on stdout without --echo; each failing line prints, on stderr,
//   "Error: <why>", the line, and a caret line, and nft goes on with the next line;
// - one line is one transaction: `add element …; delete element …` with a failing delete
//   leaves the add undone;
// - --echo prints successful adds but not deletes, and on stdout, a different pipe from the
//   errors: no way to tell where a line's output ends.
// So each batch is one line followed by a marker line, a bare word nft answers on stderr with
// "Error: syntax error, …", the marker itself and a caret line (parsing only, no netlink).
// Everything on stderr before the marker's error belongs to the batch; an "Error:" there is
// its failure. One stream, so no race between stdout and stderr.
// Per-change latency (200 changes one after another, median, node in a namespace, 2 busy
// cores): add element 0.15 ms and delete element 0.14 ms through this channel; one `nft -f -`
// process per change 6.4 ms and 16 ms.
import { FirewallCommandError, runOrThrow, type CommandRunner } from './command-runner.js';
import { BatchQueue, type Pending } from './batch-queue.js';
import { endOrKill, spawnPiped } from './piped-process.js';

// Takes set element commands, one transaction per send (or per merged batch of sends).
export interface NftChannel {
  send(commands: readonly string[]): Promise<void>;
  // Starts the process now, so the first change does not wait ~10 ms for it.
  warm?(): void;
  stop(): Promise<void>;
}

// The long-running process as the channel sees it; tests give a fake.
export interface NftProcess {
  write(text: string): void;
  end(): void;
  kill(): void;
  onStderr(listener: (text: string) => void): void;
  // Called once, with why it ended ("exit status 1", "killed by SIGKILL", "nft not found").
  onExit(listener: (reason: string) => void): void;
}

export interface NftChannelOptions {
  // argv of the long-running nft; `ip netns exec NAME nft -i` in the namespace tests.
  command?: readonly string[];
  // Per batch: then the process is killed and the batch fails.
  timeout?: number;
  // How long stop() waits for nft to end after closing its input before it kills it.
  stopTimeout?: number;
  spawn?: (command: readonly string[]) => NftProcess;
}

interface Failure {
  text: string;
  // The process died or hung: nothing is known about the batch, retrying alone says nothing.
  fatal: boolean;
}

interface InFlight {
  marker: string;
  finish: (failure: Failure | undefined) => void;
}

export class NftProcessChannel implements NftChannel {
  private readonly command: readonly string[];
  private readonly timeout: number;
  private readonly stopTimeout: number;
  private readonly spawn: (command: readonly string[]) => NftProcess;
  private process: NftProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = '';
  private inFlight: InFlight | undefined;
  private readonly queue = new BatchQueue<readonly string[]>((batch) => this.apply(batch));
  private markers = 0;

  constructor(options: NftChannelOptions = {}) {
    this.command = options.command ?? ['nft', '-i'];
    this.timeout = options.timeout ?? 5000;
    this.stopTimeout = options.stopTimeout ?? 2000;
    // The real process: `nft -i` fed on its standard input.
    this.spawn = options.spawn ?? spawnPiped;
  }

  warm(): void {
    if (this.process === undefined) this.start();
  }

  // Resolves when this change is in force, rejects with nft's error for it.
  send(commands: readonly string[]): Promise<void> {
    const multiline = commands.find((command) => command.includes('\n'));
    if (multiline !== undefined) return Promise.reject(new Error(`nft channel: expected one line per command, found ${JSON.stringify(multiline)}`));
    return this.queue.send(commands);
  }

  // Closes nft's input, waits for it to end, kills it when it does not.
  async stop(): Promise<void> {
    const process = this.process;
    if (process === undefined) return;
    await endOrKill(process, this.exited, this.stopTimeout);
  }

  // The sends that arrived meanwhile, merged into one transaction.
  private async apply(batch: Pending<readonly string[]>[]): Promise<void> {
    const failure = await this.transact(batch.flatMap((change) => change.changes));
    if (failure === undefined) for (const change of batch) change.resolve();
    else if (batch.length === 1 || failure.fatal) for (const change of batch) change.reject(this.error(failure));
    else {
      // The merged transaction failed as a whole: each change alone says whose fault it was.
      for (const change of batch) {
        const alone = await this.transact(change.changes);
        if (alone === undefined) change.resolve();
        else change.reject(this.error(alone));
      }
    }
  }

  private transact(commands: readonly string[]): Promise<Failure | undefined> {
    const process = this.process ?? this.start();
    const marker = `knockwatch-batch-${++this.markers}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        finish({ text: `timed out after ${this.timeout} ms`, fatal: true });
        // Gone now, not when its exit is reported: the next batch starts a new nft.
        this.forget(process);
        process.kill();
      }, this.timeout);
      const finish = (failure: Failure | undefined): void => {
        clearTimeout(timer);
        this.inFlight = undefined;
        resolve(failure);
      };
      this.inFlight = { marker, finish };
      process.write(`${commands.join('; ')}\n${marker}\n`);
    });
  }

  private start(): NftProcess {
    const process = this.spawn(this.command);
    this.process = process;
    this.stderr = '';
    this.exited = new Promise((resolve) => {
      process.onExit((reason) => {
        resolve();
        // An nft given up on (timed out) says nothing more about the batches after it.
        if (this.process !== process) return;
        const said = this.stderr.split('\n').find((line) => line.startsWith('Error:'));
        this.forget(process);
        this.inFlight?.finish({ text: `exited (${reason})${said === undefined ? '' : `: ${said}`}`, fatal: true });
      });
    });
    process.onStderr((text) => {
      if (this.process !== process) return;
      this.stderr += text;
      this.scan();
    });
    return process;
  }

  private forget(process: NftProcess): void {
    if (this.process !== process) return;
    this.process = undefined;
    this.stderr = '';
  }

  // Finishes the batch in flight once its marker's error is complete on stderr.
  private scan(): void {
    const inFlight = this.inFlight;
    if (inFlight === undefined) return;
    const lines = this.stderr.split('\n');
    const at = lines.indexOf(inFlight.marker);
    // The marker line and the caret line after it, both whole.
    if (at < 1 || at + 2 >= lines.length) return;
    this.stderr = lines.slice(at + 2).join('\n');
    const error = lines.slice(0, at - 1).find((line) => line.startsWith('Error:'));
    inFlight.finish(error === undefined ? undefined : { text: error, fatal: false });
  }

  private error(failure: Failure): FirewallCommandError {
    const [file = 'nft', ...args] = this.command;
    return new FirewallCommandError(file, args, failure.text);
  }
}

// One `nft -f -` per send through a CommandRunner: what a runner other than the real one
// (a recording runner, a namespace's) sees, command for command.
export function runnerNftChannel(runner: CommandRunner, nft: string): NftChannel {
  return {
    send: async (commands) => {
      await runOrThrow(runner, nft, ['-f', '-'], { input: `${commands.join('\n')}\n` });
    },
    stop: async () => undefined,
  };
}
