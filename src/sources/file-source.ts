import { statSync } from 'node:fs';
import type { Clock } from '../runtime/clock.js';
import { FileFollower, type FollowNotice, type LogPosition } from './follow-file.js';
import type { LineSource } from './line-source.js';

export interface FileSourceOptions {
  clock: Clock;
  onLines: (lines: readonly string[]) => void;
  onNotice: (notice: FollowNotice) => void;
  // Safety-net poll for missed watch events (ms).
  pollInterval?: number;
}

// A syslog file followed across rotation (see FileFollower), as a LineSource.
export class FileSource implements LineSource {
  readonly kind = 'file';
  lastLineAt: number | undefined;
  private follower: FileFollower | undefined;

  constructor(
    readonly name: string,
    private readonly options: FileSourceOptions,
  ) {}

  start(resume: LogPosition | undefined): void {
    const { clock, onNotice, pollInterval } = this.options;
    this.follower = new FileFollower(this.name, {
      resume, clock, onNotice, pollInterval,
      onLines: (lines) => {
        this.lastLineAt = clock.now();
        this.options.onLines(lines);
      },
    });
    this.follower.start();
    this.follower.check();
  }

  stop(): void {
    this.follower?.stop();
  }

  check(): void {
    this.follower?.check();
  }

  position(): LogPosition | undefined {
    return this.follower?.position();
  }

  // Bytes written after the position: the rest of the file, or all of a new one.
  lag(): number | undefined {
    const position = this.position();
    let stat: { dev: number; ino: number; size: number };
    try {
      stat = statSync(this.name);
    } catch {
      return undefined;
    }
    if (position === undefined || position.dev !== stat.dev || position.ino !== stat.ino) return stat.size;
    return Math.max(0, stat.size - position.offset);
  }
}
