import { describe as group, expect, it } from 'vitest';
import type { DueQueue } from '../../src/engine/due-queue.js';
import type { Engine } from '../../src/engine/engine.js';
import { TcpFlag } from '../../src/filters/events.js';
import { engineOf, knock, type KnockSpec } from '../helpers/engine.js';
import { seededRandom } from '../helpers/seeded-random.js';

// Doors with a sequence timeout only, with a step timeout, of any order, and a trap port; few
// tracked sources and first-step entries, so eviction runs too.
const CONFIG = `
[options]
trap_ports = 7500
trap_for = 3
retransmit_window = 2
max_tracked = 60
max_first_steps = 40
[open]
sequence = 7000,8000,9000:udp
seq_timeout = 5
[stepwise]
sequence = 7100,8100,9100,9200
seq_timeout = 9
step_timeout = 1.5
[anyorder]
sequence = 7200,8000
order = any
seq_timeout = 3
`;

const PORTS = ['7000', '8000', '9000/udp', '7100', '8100', '9100', '9200', '7200', '7500', '1234'];
const SOURCES = Array.from({ length: 150 }, (_, i) => (i % 4 === 0 ? `2001:db8::${i + 1}` : `198.51.100.${i + 1}`));
const FLAGS = [TcpFlag.SYN, TcpFlag.SYN, TcpFlag.SYN, TcpFlag.ACK];

// The engine as it was before its due queue: every cleanup reads every tracked source, in
// the order they were added. Its queue hands out everything that was ever queued; the
// engine drops what is gone and what it has already.
function readingEverySource(engine: Engine): Engine {
  const due = (engine as unknown as { due: DueQueue<unknown> }).due;
  const queued: unknown[] = [];
  const push = due.push.bind(due);
  due.push = (time, item) => {
    queued.push(item);
    push(time, item);
  };
  due.takeDue = () => queued.splice(0);
  return engine;
}

group('engine: cleanup reads only the sources due', () => {
  it('decides as reading every tracked source does, cleanup by cleanup', () => {
    const random = seededRandom(5);
    const knocks: KnockSpec[] = [];
    let at = 0;
    for (let i = 0; i < 30000; i++) {
      at += random(60) / 1000 + (random(500) === 0 ? 6 : 0);
      knocks.push({ src: SOURCES[random(SOURCES.length)], port: PORTS[random(PORTS.length)] ?? '7000', at, spt: 40000 + random(2), flags: FLAGS[random(FLAGS.length)] });
    }
    // Cleanup times from a sequence of their own, the same for both engines.
    const decide = (engine: Engine) => {
      const gap = seededRandom(6);
      let nextCleanup = 1;
      const out: unknown[] = [];
      for (const spec of knocks) {
        while (spec.at >= nextCleanup) {
          out.push(['cleanup', nextCleanup, engine.cleanup(nextCleanup * 1000), engine.trackedSources, engine.evictions, [...engine.attemptsByDoor()]]);
          nextCleanup += 1 + gap(3) / 10;
        }
        out.push(engine.handleKnock(knock({ ...spec })));
      }
      return out;
    };
    const decided = decide(engineOf(CONFIG));
    expect(decided).toEqual(decide(readingEverySource(engineOf(CONFIG))));
    // the corpus reaches timeouts of both kinds, trap periods ending, and eviction
    const cleaned = decided.filter((entry): entry is [string, number, { reason?: string }[], number, number] => Array.isArray(entry) && entry[0] === 'cleanup');
    const reasons = new Set(cleaned.flatMap(([, , decisions]) => decisions.map((decision) => decision.reason)));
    expect([...reasons].sort()).toEqual(['step-timeout', 'timeout']);
    expect(cleaned.at(-1)?.[4]).toBeGreaterThan(0);
  });
});
