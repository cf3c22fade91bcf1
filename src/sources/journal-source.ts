import { execa } from 'execa';
import { execaRunner, type CommandRunner } from '../firewall/command-runner.js';
import type { Clock } from '../runtime/clock.js';
import { journalEntryToLine, type JournalLines } from './journal-entry.js';
import type { JournalPosition, LineSource, SourcePosition } from './line-source.js';
import { createLineSplitter, MAX_LINE_LENGTH } from './read-lines.js';
import type { SourceNotice } from './source-notice.js';


// A running journalctl, as the source needs it; `exited` resolves once it is gone, with its
// exit status, or an error when it could not be started.
export interface JournalProcess {
  stdout: AsyncIterable<Uint8Array | string>;
  stderr: AsyncIterable<Uint8Array | string>;
  kill(): void;
  exited: Promise<{ code: number | undefined; error?: string }>;
}
export type SpawnJournal = (args: readonly string[]) => JournalProcess;

export interface JournalSourceOptions {
  clock: Clock;
  lines: JournalLines;
  // A journal directory instead of the system journal (`journal_directory`).
  directory?: string | undefined;
  onLines(lines: readonly string[]): void;
  onNotice(notice: SourceNotice): void;
  spawn?: SpawnJournal;
}

// Same field ORs, `+` ORs groups, different fields in one group AND. The kernel's own records
// have facility 0; journald files records written to /dev/kmsg by user space under
// _TRANSPORT=kernel as well.
const MATCHES: Record<JournalLines, readonly string[]> = {
  knocks: ['_TRANSPORT=kernel', 'SYSLOG_FACILITY=0'],
  auth: ['_SYSTEMD_UNIT=ssh.service', '+', '_SYSTEMD_UNIT=sshd.service', '+', 'SYSLOG_IDENTIFIER=sshd', '+', 'SYSLOG_IDENTIFIER=sshd-session'],
};
// journalctl always adds __CURSOR and __REALTIME_TIMESTAMP.
const FIELDS = '--output-fields=MESSAGE,_TRANSPORT,SYSLOG_FACILITY,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID,_HOSTNAME,_COMM,_UID,_SYSTEMD_UNIT';
const FIRST_BACKOFF = 1000;
const MAX_BACKOFF = 30_000;
const MAX_CURSOR_LENGTH = 512;

// Where journalctl starts: after the cursor, else at the host time `since` (ms), else at the end.
function journalctlArgs(lines: JournalLines, cursor: string | undefined, since: number | undefined, directory: string | undefined): string[] {
  const from = cursor !== undefined ? `--after-cursor=${cursor}` : since !== undefined ? `--since=@${(since / 1000).toFixed(3)}` : '--lines=0';
  return ['--follow', '--output=json', '--no-pager', ...directoryArgs(directory), FIELDS, from, ...MATCHES[lines]];
}

function directoryArgs(directory: string | undefined): string[] {
  return directory === undefined ? [] : [`--directory=${directory}`];
}

// Follows `journalctl --follow --output=json` and hands out the entries journalEntryToLine
// accepts. Resumes after the cursor of the last entry read; a journalctl that exits or
// cannot be started is restarted from there (before any entry: from when the first one
// started), 1 s after the first failure, doubling to 30 s.
export class JournalSource implements LineSource {
  readonly kind = 'journal';
  readonly name: string;
  lastLineAt: number | undefined;
  // Entries dropped: refused by the trust rules or malformed, and lines over MAX_LINE_LENGTH.
  refused = 0;
  oversize = 0;
  private cursor: string | undefined;
  // Host time a journalctl without a cursor was started at the end. One that exits before it
  // printed an entry leaves no cursor, and `--lines=0` again would skip what was written in
  // between: the restarts read `--since` then. A time, not the cursor of the last entry asked
  // for before the first start: start stays synchronous with no second journalctl, and it
  // also works for a journal with no matching entry yet (no cursor to ask for). The cost:
  // entries are placed by their realtime stamps, so a host clock stepped back in between
  // can hide some until it catches up.
  private startedAt: number | undefined;
  private process: JournalProcess | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private backoff = FIRST_BACKOFF;
  private running = false;
  private readonly spawn: SpawnJournal;

  constructor(private readonly options: JournalSourceOptions) {
    this.name = options.lines === 'knocks' ? 'journal:kernel' : 'journal:sshd';
    this.spawn = options.spawn ?? spawnJournalctl;
  }

  start(resume: SourcePosition | undefined): void {
    // A cursor saved from another journal (journal_directory changed) is not resumed from.
    const saved = resume !== undefined && 'kind' in resume && resume.kind === 'journal' ? resume : undefined;
    this.cursor = saved !== undefined && saved.directory === this.options.directory ? saved.cursor : undefined;
    this.startedAt = undefined;
    this.running = true;
    this.launch();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.process?.kill();
    this.process = undefined;
  }

  // journalctl pushes what it reads; there is nothing to poll.
  check(): void {}

  position(): JournalPosition | undefined {
    if (this.cursor === undefined) return undefined;
    return this.options.directory === undefined ? { kind: 'journal', cursor: this.cursor } : { kind: 'journal', cursor: this.cursor, directory: this.options.directory };
  }

  lag(): number | undefined {
    return undefined;
  }

  private launch(): void {
    this.timer = undefined;
    const resumedFrom = this.cursor;
    const since = resumedFrom === undefined ? this.startedAt : undefined;
    if (resumedFrom === undefined) this.startedAt ??= this.options.clock.now();
    const child = this.spawn(journalctlArgs(this.options.lines, resumedFrom, since, this.options.directory));
    this.process = child;
    void Promise.all([this.readEntries(child), firstLine(child.stderr), child.exited]).then(([, stderr, exit]) => {
      if (!this.running || this.process !== child) return;
      this.process = undefined;
      this.restart(exit, stderr, resumedFrom);
    });
  }

  private restart(exit: { code: number | undefined; error?: string }, stderr: string | undefined, resumedFrom: string | undefined): void {
    const said = exit.error ?? (stderr === undefined ? `exit status ${exit.code ?? 'unknown'}` : `exit status ${exit.code ?? 'unknown'}: ${stderr}`);
    // journalctl refuses a cursor it cannot parse; one that parses but is gone makes it start
    // at the nearest later entry, which is what resuming wants anyway.
    if (resumedFrom !== undefined && resumedFrom === this.cursor && stderr !== undefined && /cursor/i.test(stderr)) {
      this.options.onNotice({ level: 'warning', message: `journalctl did not accept the saved journal cursor (${stderr}); reading ${this.name} from now on.` });
      this.cursor = undefined;
      this.startedAt = undefined;
      this.launch();
      return;
    }
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF);
    this.options.onNotice({ level: 'error', message: `journalctl for ${this.name} stopped (${said}); restarting in ${delay / 1000} s.` });
    this.timer = setTimeout(() => this.launch(), delay);
  }

  private async readEntries(child: JournalProcess): Promise<void> {
    const splitter = createLineSplitter(MAX_LINE_LENGTH);
    try {
      for await (const chunk of child.stdout) {
        if (!this.running || this.process !== child) return;
        const { lines, oversize } = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        this.handOut(lines, oversize);
      }
    } catch {
      // A stream error ends this journalctl like an exit does; `exited` says why.
    }
  }

  private handOut(jsonLines: readonly string[], oversize: number): void {
    const out: string[] = [];
    let cursor: string | undefined;
    for (const jsonLine of jsonLines) {
      let entry: unknown;
      try {
        entry = JSON.parse(jsonLine);
      } catch {
        this.refused++;
        continue;
      }
      const entryCursor = (entry as { __CURSOR?: unknown } | null)?.__CURSOR;
      if (typeof entryCursor === 'string' && entryCursor.length > 0 && entryCursor.length <= MAX_CURSOR_LENGTH) cursor = entryCursor;
      const line = journalEntryToLine(entry, this.options.lines);
      if (line === undefined) this.refused++;
      else out.push(line);
    }
    if (oversize > 0) {
      this.oversize += oversize;
      this.options.onNotice({ level: 'warning', message: `journalctl printed ${oversize} line(s) over ${MAX_LINE_LENGTH} bytes for ${this.name}; dropped.` });
    }
    if (cursor !== undefined) {
      this.cursor = cursor;
      this.backoff = FIRST_BACKOFF;
    }
    if (out.length > 0) {
      this.lastLineAt = this.options.clock.now();
      this.options.onLines(out);
    }
  }
}

// The first non-empty stderr line, at most 300 characters; reads stderr to its end.
async function firstLine(stderr: AsyncIterable<Uint8Array | string>): Promise<string | undefined> {
  let text = '';
  try {
    for await (const chunk of stderr) {
      if (text.length < 4096) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    }
  } catch {
    // What was read so far is enough.
  }
  const line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0);
  return line === undefined ? undefined : line.slice(0, 300);
}

const spawnJournalctl: SpawnJournal = (args) => {
  const child = execa('journalctl', [...args], { buffer: false, reject: false, shell: false, stdin: 'ignore', env: { LC_ALL: 'C' } });
  return {
    stdout: child.stdout,
    stderr: child.stderr,
    kill: () => { child.kill(); },
    exited: child.then((result) => ({
      code: result.exitCode,
      error: (result as { code?: string }).code === 'ENOENT' ? 'journalctl not found' : undefined,
    })),
  };
};

const HAS_SSHD_TIMEOUT = 5000;

// Why the journal (the system's, or the one in `directory`) cannot be read, or undefined
// when it can: journalctl exits 0 and says only on stderr that it found or could open no
// journal files (not in the systemd-journal group, an empty directory).
export async function journalUnreadable(directory: string | undefined, runner: CommandRunner = execaRunner): Promise<string | undefined> {
  const result = await runner.run('journalctl', ['--lines=0', '--no-pager', ...directoryArgs(directory)], { timeout: HAS_SSHD_TIMEOUT });
  if (result.failed) return `journalctl failed (${result.reason})`;
  const said = result.stderr.split('\n').map((line) => line.trim()).find((line) => /^No journal files were/.test(line));
  return said === undefined ? undefined : `journalctl: ${said.slice(0, 200).replace(/\.$/, '')}`;
}

// For `auto`: whether the journal (the system's, or the one in `directory`) holds an entry
// from sshd running as root (the entries the auth journal source would hand out).
export async function journalHasSshd(directory: string | undefined, runner: CommandRunner = execaRunner): Promise<boolean> {
  const result = await runner.run('journalctl', ['--output=json', '--no-pager', ...directoryArgs(directory), '--lines=1', FIELDS, '_UID=0', '_COMM=sshd', '_COMM=sshd-session'], { timeout: HAS_SSHD_TIMEOUT });
  if (result.failed) return false;
  const last = result.stdout.split('\n').find((line) => line.startsWith('{'));
  if (last === undefined) return false;
  try {
    return journalEntryToLine(JSON.parse(last), 'auth') !== undefined;
  } catch {
    return false;
  }
}
