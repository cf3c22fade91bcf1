import type { SourceStatus } from './control-types.js';
import type { FollowNotice } from '../sources/follow-file.js';
import { FileSource } from '../sources/file-source.js';
import type { LineSource, SourcePosition } from '../sources/line-source.js';
import type { Clock } from './clock.js';
import type { SourcePaths } from './preflight.js';

// Which parser reads a source's lines: kernel LOG lines (knocks) or sshd's.
export type LineKind = 'knocks' | 'auth';

export interface SourceSpec {
  kind: 'file';
  name: string;
  lines: LineKind;
}

export interface SourceHooks {
  clock: Clock;
  resume: (name: string) => SourcePosition | undefined;
  onLines: (lines: readonly string[], kind: LineKind) => void;
  onNotice: (name: string, notice: FollowNotice) => void;
}

// The sources a config (with the command line) asks for: the kernel log, and sshd's if any.
export function sourceSpecs(paths: SourcePaths): SourceSpec[] {
  const specs: SourceSpec[] = [];
  if (paths.kernLog !== undefined) specs.push({ kind: 'file', name: paths.kernLog, lines: 'knocks' });
  if (paths.authLog !== undefined) specs.push({ kind: 'file', name: paths.authLog, lines: 'auth' });
  return specs;
}

// The sources the daemon reads, each from where the state file says it stopped.
export class SourceList {
  list: LineSource[] = [];
  private specs: readonly SourceSpec[] = [];

  constructor(private readonly hooks: SourceHooks) {}

  start(specs: readonly SourceSpec[]): void {
    this.specs = specs;
    this.list = specs.map((spec) => {
      const source = new FileSource(spec.name, {
        clock: this.hooks.clock,
        onLines: (lines) => this.hooks.onLines(lines, spec.lines),
        onNotice: (notice) => this.hooks.onNotice(spec.name, notice),
      });
      source.start(this.hooks.resume(spec.name));
      return source;
    });
  }

  // After a reload: when the sources changed, `before` runs (to save positions), then the
  // old ones stop and the new ones start.
  switchTo(specs: readonly SourceSpec[], before: () => void): void {
    if (specs.length === this.specs.length && specs.every((spec, i) => sameSpec(spec, this.specs[i]))) return;
    before();
    this.stop(false);
    this.start(specs);
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

function sameSpec(a: SourceSpec, b: SourceSpec | undefined): boolean {
  return a.kind === b?.kind && a.name === b.name && a.lines === b.lines;
}

export function sourceStatus(source: LineSource): SourceStatus {
  return { name: source.name, kind: source.kind, position: source.position(), lag: source.lag(), lastLineAt: source.lastLineAt };
}
