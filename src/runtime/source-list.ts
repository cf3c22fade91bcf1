import type { SourceStatus } from './control-types.js';
import type { FollowNotice } from '../sources/follow-file.js';
import { FileSource } from '../sources/file-source.js';
import type { SourceNotice } from '../sources/source-notice.js';
import { JournalSource } from '../sources/journal-source.js';
import { KmsgSource } from '../sources/kmsg-source.js';
import type { LineSource, SourcePosition } from '../sources/line-source.js';
import type { Clock } from './clock.js';

// Which parser reads a source's lines: kernel LOG lines (knocks) or sshd's.
export type LineKind = 'knocks' | 'auth';

// A concrete source, as src/runtime/source-choice.ts resolves the config's choices; `name`
// is also the key of its position in the state file.
export type SourceSpec =
  | { kind: 'file'; name: string; lines: LineKind }
  | { kind: 'kmsg'; name: 'kmsg'; lines: 'knocks' }
  // `directory`: journal_directory, undefined for the system journal.
  | { kind: 'journal'; name: 'journal:kernel' | 'journal:sshd'; lines: LineKind; directory: string | undefined };

export interface SourceHooks {
  clock: Clock;
  resume: (name: string) => SourcePosition | undefined;
  onLines: (lines: readonly string[], kind: LineKind) => void;
  onNotice: (name: string, notice: FollowNotice) => void;
  onMessage: (name: string, message: SourceNotice) => void;
}

// Builds the source a spec names; the only place that does.
function createSource(spec: SourceSpec, hooks: SourceHooks): LineSource {
  if (spec.kind !== 'file') return createStreamSource(spec, hooks);
  return new FileSource(spec.name, {
    clock: hooks.clock,
    onLines: (lines) => hooks.onLines(lines, spec.lines),
    onNotice: (notice) => hooks.onNotice(spec.name, notice),
  });
}

function createStreamSource(spec: Exclude<SourceSpec, { kind: 'file' }>, hooks: SourceHooks): LineSource {
  const options = {
    clock: hooks.clock,
    onLines: (lines: readonly string[]) => hooks.onLines(lines, spec.lines),
    onNotice: (notice: SourceNotice) => hooks.onMessage(spec.name, notice),
  };
  return spec.kind === 'kmsg' ? new KmsgSource(options) : new JournalSource({ ...options, lines: spec.lines, directory: spec.directory });
}

// The sources the daemon reads, each from where the state file says it stopped.
export class SourceList {
  list: LineSource[] = [];
  private specs: readonly SourceSpec[] = [];

  constructor(private readonly hooks: SourceHooks) {}

  // Starts every source or none: when one cannot start, those started already stop again;
  // returns why.
  start(specs: readonly SourceSpec[]): string | undefined {
    const opened = this.open(specs);
    if (typeof opened === 'string') return opened;
    [this.list, this.specs] = [opened, specs];
    return undefined;
  }

  // After a reload: when the sources changed, `before` runs (to save positions), the new ones
  // start, then the old ones stop. A new one that cannot start leaves the old ones reading;
  // returns why.
  switchTo(specs: readonly SourceSpec[], before: () => void): string | undefined {
    if (specs.length === this.specs.length && specs.every((spec, i) => sameSpec(spec, this.specs[i]))) return undefined;
    before();
    const opened = this.open(specs);
    if (typeof opened === 'string') return opened;
    this.stop(false);
    [this.list, this.specs] = [opened, specs];
    return undefined;
  }

  private open(specs: readonly SourceSpec[]): LineSource[] | string {
    const opened: LineSource[] = [];
    try {
      for (const spec of specs) {
        const source = createSource(spec, this.hooks);
        source.start(fitting(spec, this.hooks.resume(spec.name)));
        opened.push(source);
      }
      return opened;
    } catch (error) {
      for (const source of opened) source.stop();
      return (error as Error).message;
    }
  }

  check(): void {
    for (const source of this.list) source.check();
  }

  // `readLast`: what is there now is read first (a clean stop).
  stop(readLast: boolean): void {
    for (const source of this.list) {
      if (readLast) source.check();
      source.stop();
    }
  }
}

// A saved position only for a source of its kind (a name once a file, now the journal's).
function fitting(spec: SourceSpec, position: SourcePosition | undefined): SourcePosition | undefined {
  const kind = position === undefined ? undefined : 'kind' in position ? position.kind : 'file';
  return kind === spec.kind ? position : undefined;
}

function sameSpec(a: SourceSpec, b: SourceSpec | undefined): boolean {
  return a.kind === b?.kind && a.name === b.name && a.lines === b.lines && directoryOf(a) === directoryOf(b);
}

function directoryOf(spec: SourceSpec): string | undefined {
  return spec.kind === 'journal' ? spec.directory : undefined;
}

export function sourceStatus(source: LineSource): SourceStatus {
  return { name: source.name, kind: source.kind, position: source.position(), lag: source.lag(), lastLineAt: source.lastLineAt };
}
