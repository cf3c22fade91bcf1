import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A figure of process.memoryUsage() after a full collection. The memory of the array buffers
// a collection frees is given back by a task of its own a little later: collected again until
// the figure stops falling (bounded).
export async function collectedMemory(figure: (usage: NodeJS.MemoryUsage) => number): Promise<number> {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  let last = Infinity;
  for (let round = 0; round < 50; round++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = figure(process.memoryUsage());
    if (now >= last) return now;
    last = now;
  }
  return last;
}
