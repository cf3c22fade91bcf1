// One long-running `iptables-restore --noflush -w` (ip6tables-restore for IPv6) for the grant
// and ban rules.
//
// Found with iptables 1.8.9 (nf_tables), commands piped in (not a tty), in a namespace:
// - each `*filter … COMMIT` block is applied as it is read, while the process keeps running,
//   and its chain cache is read afresh per block (a chain replaced by another process meanwhile
//   is seen);
// - nothing is printed on success, even with -v;
// - a failing line prints "iptables-restore: line N failed: <why>" on stderr, N counted from
//   the process's first input line, and the process exits with status 1; the block with that
//   line is not applied, nor anything after it;
// - `-D` of a rule that is not there fails ("Bad rule (does a matching rule exist in that
//   chain?)"), and `-I` of a rule that is there adds a second copy.
// So success is seen from the outside: once everything written has reached the pipe, the
// process has applied it when it sleeps (/proc/PID/stat "S") in read(2) on fd 0
// (/proc/PID/syscall). A woken reader shows "R" even while still inside that read, a dead one
// "Z". And the channel keeps the set of grant and ban rules installed, as read back by the
// backend, so it writes `-I` only for absent rules and `-D` only for present ones.
// Per change (200 opens then 200 closes one after another, medians, node in a namespace, 2
// busy cores): open 1.0–1.6 ms and close 1.7–1.8 ms here; `-C` then `-I`/`-D` processes 8–12 ms and 20–24 ms.
import { FirewallCommandError, runOrThrow, type CommandRunner } from './command-runner.js';
import { BatchQueue, type Pending } from './batch-queue.js';
import { endOrKill } from './piped-process.js';
import { spawnRestore } from './restore-process.js';

// One rule to insert or delete, in the chain the channel is for.
export interface RuleChange {
  // What the backend reads back for this rule (grantKey or banKey).
  key: string;
  // The rule's words after the chain name, built from validated values only.
  rule: readonly string[];
  // Where to insert it (1 is the top); undefined deletes it.
  insertAt?: number;
}

// Takes rule changes, one transaction per send (or per merged batch of sends).
export interface IptablesChannel {
  // Resolves when every rule of the send is as asked, rejects with the error for it.
  send(changes: readonly RuleChange[]): Promise<void>;
  // The keys of the grant and ban rules installed now, as read back; undefined when unknown.
  installed(keys: ReadonlySet<string> | undefined): void;
  // Starts the process now, so the first change does not wait for it.
  warm?(): void;
  stop(): Promise<void>;
}

// The long-running process as the channel sees it; tests give a fake.
export interface RestoreProcess {
  write(text: string): void;
  // Whether everything written has been read and applied, and the process waits for more.
  settled(): boolean;
  end(): void;
  kill(): void;
  onStderr(listener: (text: string) => void): void;
  // Called once, with why it ended ("exit status 1", "killed by SIGKILL", "… not found").
  onExit(listener: (reason: string) => void): void;
}

export interface RestoreChannelOptions {
  chain: string;
  // argv of the long-running restore; `ip netns exec NAME iptables-restore …` in the tests.
  command?: readonly string[];
  // The keys installed now, read back, when the channel lost track (its process was killed
  // mid-change); throws when they cannot be read.
  readInstalled: () => Promise<Set<string>>;
  // Per batch: then the process is killed and the batch fails.
  timeout?: number;
  // How long stop() waits for the process to end after closing its input before it kills it.
  stopTimeout?: number;
  spawn?: (command: readonly string[]) => RestoreProcess;
}

const MISSING_RULE = 'does a matching rule exist';
// Polls on every turn of the event loop at first (a change takes a fraction of a
// millisecond), then every millisecond.
const FAST_POLLS = 200;

type Send = Pending<readonly RuleChange[]>;

interface Line {
  text: string;
  change: RuleChange;
  owner: Send;
}

type Outcome =
  | { kind: 'applied' }
  // The process died or hung: whether the block went in is not known.
  | { kind: 'lost'; text: string }
  // The block was refused; `line` is its index in the block's lines when it names one.
  | { kind: 'refused'; text: string; line: number | undefined };

interface InFlight {
  finish: (outcome: Outcome) => void;
  // The process's line number of the block's first rule line.
  first: number;
}

export class RestoreProcessChannel implements IptablesChannel {
  private readonly chain: string;
  private readonly command: readonly string[];
  private readonly timeout: number;
  private readonly stopTimeout: number;
  private readonly spawn: (command: readonly string[]) => RestoreProcess;
  private readonly readInstalled: () => Promise<Set<string>>;
  private process: RestoreProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = '';
  // Lines written to the process in force, for its "line N failed".
  private written = 0;
  private inFlight: InFlight | undefined;
  private readonly queue = new BatchQueue<readonly RuleChange[]>((batch) => this.apply(batch));
  private known: Set<string> | undefined;

  constructor(options: RestoreChannelOptions) {
    this.chain = options.chain;
    this.command = options.command ?? ['iptables-restore', '--noflush', '-w'];
    this.timeout = options.timeout ?? 5000;
    this.stopTimeout = options.stopTimeout ?? 2000;
    this.spawn = options.spawn ?? spawnRestore;
    this.readInstalled = options.readInstalled;
  }

  send(changes: readonly RuleChange[]): Promise<void> {
    const bad = changes.flatMap((change) => change.rule).find((word) => /[\n\r]/.test(word));
    if (bad !== undefined) return Promise.reject(new Error(`iptables channel: expected words without line breaks, found ${JSON.stringify(bad)}`));
    return this.queue.send(changes);
  }

  warm(): void {
    if (this.process === undefined) this.start();
  }

  installed(keys: ReadonlySet<string> | undefined): void {
    this.known = keys === undefined ? undefined : new Set(keys);
  }

  // Closes the process's input, waits for it to end, kills it when it does not.
  async stop(): Promise<void> {
    const process = this.process;
    if (process === undefined) return;
    await endOrKill(process, this.exited, this.stopTimeout);
  }

  // Writes the sends that arrived meanwhile as one block until each of its sends is known to be in force or to
  // have failed: a refused line fails its own send only, the others go again without it.
  private async apply(batch: Send[]): Promise<void> {
    let remaining = batch;
    while (remaining.length > 0) {
      let known: Set<string>;
      try {
        known = this.known ?? await this.readInstalled();
      } catch (error) {
        for (const pending of remaining) pending.reject(this.error(`the installed rules could not be read back: ${(error as Error).message}`));
        return;
      }
      this.known = known;
      const lines = this.plan(remaining, known);
      const outcome = lines.length === 0 ? { kind: 'applied' as const } : await this.transact(lines.map((line) => line.text));
      if (outcome.kind === 'applied') {
        for (const { change } of lines) {
          if (change.insertAt === undefined) this.known?.delete(change.key);
          else this.known?.add(change.key);
        }
        for (const pending of remaining) pending.resolve();
        return;
      }
      if (outcome.kind === 'lost') {
        this.known = undefined;
        for (const pending of remaining) pending.reject(this.error(outcome.text));
        return;
      }
      const line = outcome.line === undefined ? undefined : lines[outcome.line];
      if (line === undefined) {
        // The block as a whole was refused (at COMMIT): each send alone says whose fault it was.
        if (remaining.length === 1) remaining[0]?.reject(this.error(outcome.text));
        else for (const pending of remaining) await this.apply([pending]);
        return;
      }
      // A rule known as installed is already gone, as asked: the rest of the block goes again
      // (each time one known rule fewer, so this ends).
      if (line.change.insertAt === undefined && outcome.text.includes(MISSING_RULE) && known.delete(line.change.key)) continue;
      line.owner.reject(this.error(outcome.text));
      remaining = remaining.filter((pending) => pending !== line.owner);
    }
  }

  // The block's lines: inserts of absent rules, deletes of present ones, in order.
  private plan(batch: readonly Send[], known: ReadonlySet<string>): Line[] {
    const after = new Set(known);
    const lines: Line[] = [];
    for (const owner of batch) {
      for (const change of owner.changes) {
        const rule = change.rule.map(quoteRestore).join(' ');
        if (change.insertAt === undefined && after.delete(change.key)) lines.push({ text: `-D ${this.chain} ${rule}`, change, owner });
        if (change.insertAt !== undefined && !after.has(change.key)) {
          after.add(change.key);
          lines.push({ text: `-I ${this.chain} ${change.insertAt} ${rule}`, change, owner });
        }
      }
    }
    return lines;
  }

  private transact(lines: readonly string[]): Promise<Outcome> {
    const process = this.process ?? this.start();
    const first = this.written + 2;
    this.written += lines.length + 2;
    return new Promise((resolve) => {
      let done = false;
      let polls = 0;
      const timer = setTimeout(() => {
        finish({ kind: 'lost', text: `timed out after ${this.timeout} ms` });
        // Gone now, not when its exit is reported: the next batch starts a new process.
        this.forget(process);
        process.kill();
      }, this.timeout);
      const finish = (outcome: Outcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inFlight = undefined;
        resolve(outcome);
      };
      const poll = (): void => {
        if (done) return;
        if (this.process === process && process.settled()) finish({ kind: 'applied' });
        else if (++polls < FAST_POLLS) setImmediate(poll);
        else setTimeout(poll, 1);
      };
      this.inFlight = { finish, first };
      process.write(`*filter\n${lines.join('\n')}\nCOMMIT\n`);
      setImmediate(poll);
    });
  }

  private start(): RestoreProcess {
    const process = this.spawn(this.command);
    this.process = process;
    this.stderr = '';
    this.written = 0;
    this.exited = new Promise((resolve) => {
      process.onExit((reason) => {
        resolve();
        // A process given up on (timed out) says nothing more about the batches after it.
        if (this.process !== process) return;
        const stderr = this.stderr;
        this.forget(process);
        const inFlight = this.inFlight;
        if (inFlight === undefined) return;
        const failed = /line (\d+) failed: (.*)/.exec(stderr);
        if (failed === null) {
          const said = stderr.split('\n').find((line) => line.trim() !== '');
          inFlight.finish({ kind: 'lost', text: `exited (${reason})${said === undefined ? '' : `: ${said.trim()}`}` });
          return;
        }
        const index = Number(failed[1]) - inFlight.first;
        inFlight.finish({ kind: 'refused', text: failed[0], line: index >= 0 ? index : undefined });
      });
    });
    process.onStderr((text) => {
      if (this.process === process) this.stderr += text;
    });
    return process;
  }

  private forget(process: RestoreProcess): void {
    if (this.process !== process) return;
    this.process = undefined;
    this.stderr = '';
  }

  private error(text: string): FirewallCommandError {
    const [file = 'iptables-restore', ...args] = this.command;
    return new FirewallCommandError(file, args, text);
  }
}

// iptables-restore splits on spaces and honours double quotes.
export function quoteRestore(word: string): string {
  return /^[\w.,:/!@+-]+$/.test(word) ? word : `"${word.replace(/["\\]/g, '')}"`;
}

// `iptables -C` then `-I` or `-D` per rule through a CommandRunner: what a runner other than
// the real one (a recording runner, a namespace's) sees, command for command.
export function runnerIptablesChannel(runner: CommandRunner, cli: string, chain: string): IptablesChannel {
  return {
    send: async (changes) => {
      for (const change of changes) {
        // -C first: never a second copy, and a rule already gone is not an error.
        const present = !(await runner.run(cli, ['-w', '-C', chain, ...change.rule])).failed;
        if (change.insertAt !== undefined && !present) await runOrThrow(runner, cli, ['-w', '-I', chain, String(change.insertAt), ...change.rule]);
        if (change.insertAt === undefined && present) await runOrThrow(runner, cli, ['-w', '-D', chain, ...change.rule]);
      }
    },
    installed: () => undefined,
    stop: async () => undefined,
  };
}
