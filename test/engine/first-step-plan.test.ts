import { describe as group, expect, it, vi } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { Engine } from '../../src/engine/engine.js';
import type { Knock } from '../../src/filters/events.js';
import { TcpFlag } from '../../src/filters/events.js';
import { engineOf, knock, type KnockSpec } from '../helpers/engine.js';
import { seededRandom } from '../helpers/seeded-random.js';

// Doors where a new source's first knock takes the first-step shortcut (7000: two static
// doors, one with tcpflags; 9000/udp) and where it must not (7100: an order = any door;
// 7200: a door for one destination; 7300: a one-step door; 7500: a trap port). One
// seq_timeout for all: first-step entries time out in the order they came, so one of a
// shorter door waits for an older one of a longer door (and is decided later than a full
// state's would be).
const DOORS = `
[open]
sequence = 7000,8000,9000:udp
seq_timeout = 5
[synonly]
sequence = 7000,8100
seq_timeout = 5
tcpflags = syn,!ack
[close]
sequence = 9000:udp,8000,7000
seq_timeout = 5
[anyorder]
sequence = 7100,8000
order = any
seq_timeout = 5
[here]
sequence = 7200,8000
destination = 192.0.2.1
seq_timeout = 5
[single]
sequence = 7300
seq_timeout = 5
`;

const PORTS = ['7000', '7000', '9000/udp', '8000', '8100', '9000/udp', '7100', '7200', '7300', '7500', '1234'];
// 200 sources, one in five IPv6: most knocks are a source's first in a while.
const SOURCES = Array.from({ length: 200 }, (_, i) => (i % 5 === 0 ? `2001:db8:4:8:15:16:23:${i + 1}` : `203.0.113.${i + 1}`));
const FLAGS = [TcpFlag.SYN, TcpFlag.SYN, TcpFlag.SYN | TcpFlag.ACK, TcpFlag.ACK];

group('engine: a new source\'s first knock', () => {
  // A first-step entry stands for the attempts a full state would hold: the engine with the
  // first-step table (and its shortcut for a new source) decides as the one without it.
  it('is decided as a full state decides it, knock by knock', () => {
    const random = seededRandom(11);
    const knocks: KnockSpec[] = [];
    let at = 0;
    for (let i = 0; i < 20000; i++) {
      at += random(40) / 1000;
      knocks.push({
        src: SOURCES[random(SOURCES.length)], port: PORTS[random(PORTS.length)] ?? '7000', at,
        spt: 40000 + random(2), flags: FLAGS[random(FLAGS.length)], dst: random(4) === 0 ? '192.0.2.2' : '192.0.2.1',
      });
    }
    const options = '[options]\ntrap_ports = 7500\ntrap_for = 20\nmax_tracked = 100000\n';
    const withTable = engineOf(`${options}max_first_steps = 1000\n${DOORS}`);
    const without = engineOf(`${options}max_first_steps = 0\n${DOORS}`);
    // Knock by knock; cleanup each second (in its own order for each: compared as sets).
    const decide = (engine: typeof withTable) => {
      let nextCleanup = 1;
      return knocks.map((spec) => {
        if (spec.at >= nextCleanup) {
          const cleaned = engine.cleanup(nextCleanup * 1000).map((decision) => JSON.stringify(decision)).sort();
          nextCleanup += 1;
          return [cleaned, engine.handleKnock(knock({ ...spec }))];
        }
        return [[], engine.handleKnock(knock({ ...spec }))];
      });
    };
    // The shortcut is taken, on the keys it is for and no other (without it, the table's
    // engine decides the same and this test proved nothing about it).
    const shortcut = vi.spyOn(Engine.prototype as unknown as { startFirstSteps: (knock: Knock) => Decision[] }, 'startFirstSteps');
    const decided = decide(withTable);
    const shortcutKeys = new Set(shortcut.mock.calls.map(([taken]) => `${taken.dport}/${taken.proto}`));
    shortcut.mockRestore();
    expect([...shortcutKeys].sort()).toEqual(['7000/tcp', '8100/tcp', '9000/udp']);
    expect(decided).toEqual(decide(without));
    // the corpus reaches first steps, flags that do not fit, completions and breaks
    const types = new Set(decided.flatMap(([, decisions]) => decisions as readonly Decision[]).map((decision) => decision.type === 'step' ? `step ${decision.step}` : decision.type));
    expect([...types].sort()).toEqual(['broken', 'completed', 'flags', 'refused', 'retransmit', 'step 1', 'step 2', 'step 3', 'trapped']);
  });
});
