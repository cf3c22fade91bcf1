import { describe, expect, it } from 'vitest';
import { configProblems } from '../helpers/config-problems.js';
import { config } from '../helpers/engine.js';

const habits = (ini: string): unknown => config(ini).doors.map(({ closeOnWrongKnock, trapAdjacent, maxConnections }) => ({ closeOnWrongKnock, trapAdjacent, maxConnections }));

describe('config: close_on_wrong_knock, trap_adjacent, max_connections', () => {
  it('reads them per door, off by default', () => {
    expect(habits('[a]\nsequence = 1\nclose_on_wrong_knock = yes\ntrap_adjacent = yes\nmax_connections = 3\n[b]\nsequence = 2\n')).toEqual([
      { closeOnWrongKnock: true, trapAdjacent: true, maxConnections: 3 },
      { closeOnWrongKnock: false, trapAdjacent: false, maxConnections: undefined },
    ]);
  });

  it.each([
    ['[a]\nsequence = 1\nmax_connections = 0', 'knockwatch.ini [a] max_connections:'],
    ['[a]\nsequence = 1\nmax_connections = many', 'knockwatch.ini [a] max_connections:'],
    ['[a]\nsequence = 1\nclose_on_wrong_knock = maybe', 'knockwatch.ini [a] close_on_wrong_knock:'],
    ['[a]\nsequence = 1\n[c]\nsequence = 2\ncloses = a\nmax_connections = 1', 'knockwatch.ini [c] max_connections: expected no max_connections on a door that opens nothing (it closes another)'],
  ])('%j is refused', (text, start) => {
    expect(configProblems(text).map((problem) => problem.slice(0, start.length))).toEqual([start]);
  });
});
