import type { Clock } from '../runtime/clock.js';
import type { Output } from './output.js';

const LARGE_INPUT = 32 * 1024 * 1024;
const WIDTH = 30;

export interface Progress {
  update(bytes: number, lines: number): void;
  done(): void;
}

// A progress bar on a terminal stderr for large inputs, redrawn at most every 200 ms of
// `clock`; silent otherwise.
export function createProgress(out: Output, totalBytes: number | undefined, clock: Clock): Progress {
  const enabled = out.isTTY === true && (totalBytes === undefined || totalBytes >= LARGE_INPUT);
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    update(bytes, lines) {
      if (!enabled) return;
      const now = clock.now();
      if (now - lastDraw < 200) return;
      lastDraw = now;
      drawn = true;
      const count = `${(lines / 1e6).toFixed(2)}M lines`;
      if (totalBytes === undefined || totalBytes === 0) {
        out.write(`\r${count}, ${(bytes / 1048576).toFixed(0)} MiB read`);
        return;
      }
      const fraction = Math.min(1, bytes / totalBytes);
      const filled = Math.round(fraction * WIDTH);
      out.write(`\r[${'#'.repeat(filled)}${' '.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${count}`);
    },
    done() {
      if (drawn) out.write('\r\x1b[K');
    },
  };
}
