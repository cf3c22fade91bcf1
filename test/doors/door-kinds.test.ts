import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoorStep } from '../../src/config/types.js';
import { createDoorKind } from '../../src/doors/create-door-kind.js';
import { DoorSet } from '../../src/doors/door-set.js';
import { describeKnock, formatStep } from '../../src/doors/format-step.js';
import { OneTimeKind } from '../../src/doors/one-time-kind.js';
import { StaticKind } from '../../src/doors/static-kind.js';
import { config } from '../helpers/engine.js';

const step = (port: number, proto: 'tcp' | 'udp' = 'tcp'): DoorStep => ({ port, proto });
const FIRST = [step(6100), step(6200, 'udp')];
const SECOND = [step(7100), step(7200)];

describe('a static door', () => {
  it('expects its one sequence from every source at every time, and nothing completes it away', () => {
    const kind = createDoorKind({ kind: 'static', sequence: FIRST });
    expect(kind).toBeInstanceOf(StaticKind);
    expect(kind.expected('203.0.113.7', 0)).toEqual([FIRST]);
    kind.completed(FIRST, '203.0.113.7', 1000);
    expect(kind.expected('198.51.100.1', 2000)).toEqual([FIRST]);
    expect(kind.steps()).toEqual(FIRST);
  });
});

describe('a one-time door', () => {
  it('expects the first unused sequence; completing uses it up, then none is left', () => {
    const kind = createDoorKind({ kind: 'one-time', sequences: [FIRST, SECOND] });
    expect(kind).toBeInstanceOf(OneTimeKind);
    expect(kind.expected('203.0.113.7', 0)).toEqual([FIRST]);
    kind.completed(FIRST, '203.0.113.7', 1000);
    expect(kind.expected('198.51.100.1', 2000)).toEqual([SECOND]);
    kind.completed(SECOND, '198.51.100.1', 3000);
    expect(kind.expected('203.0.113.7', 4000)).toEqual([]);
  });

  // A count restored from the state file, with a file whose lines cannot be marked now: the
  // lines stay used and counted, so the next state file keeps them too; those marked are not.
  it('keeps counting restored sequences whose lines cannot be marked, and marks the rest', () => {
    const marked: string[] = [];
    const kind = new OneTimeKind([FIRST, SECOND, FIRST.slice(0, 1)], 'seqs', (_file, sequence) => {
      if (sequence === SECOND) throw new Error('EROFS');
      marked.push(sequence.map((s) => s.port).join(','));
    });
    kind.restore(2);
    expect(marked).toEqual(['6100,6200']);
    expect(kind.saved).toBe(1);
    expect(kind.expected()).toEqual([FIRST.slice(0, 1)]);
  });

  it('may use every step of every sequence, used or not', () => {
    const kind = new OneTimeKind([FIRST, SECOND]);
    kind.restore(2);
    expect(kind.steps()).toEqual([...FIRST, ...SECOND]);
  });
});

describe('the doors of a config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-doors-'));
  writeFileSync(join(dir, 'seqs'), '6100,6200:udp\n7100,7200\n');
  const doors = config(`[static]\nsequence = 1,2\n[once]\none_time_sequences = ${join(dir, 'seqs')}\n`).doors;
  rmSync(dir, { recursive: true });

  it('give each door the kind its config says', () => {
    expect(doors.map((door) => door.knock)).toEqual([
      { kind: 'static', sequence: [step(1), step(2)] },
      { kind: 'one-time', sequences: [FIRST, SECOND], file: join(dir, 'seqs') },
    ]);
    expect(new DoorSet(doors).doors.map(({ kind }) => kind.constructor.name)).toEqual(['StaticKind', 'OneTimeKind']);
  });

  it('save one-time use per door, and carry counts of doors that are not one-time here', () => {
    const set = new DoorSet(doors);
    expect(set.usedOneTime()).toEqual({});
    set.restoreOneTime({ once: 1, static: 4, gone: 3 });
    const once = set.doors[1]?.kind;
    const due = once?.expected('203.0.113.7', 0) ?? [];
    expect(due).toEqual([SECOND]);
    expect(once?.completed(due[0]!, '203.0.113.7', 0)).toBeUndefined();
    expect(set.usedOneTime()).toEqual({ static: 4, gone: 3, once: 2 });
    // The same sequence again (a second source that knocked it too) uses nothing more.
    expect(once?.completed(due[0]!, '198.51.100.9', 0)).toBe('used');
    expect(set.usedOneTime()).toEqual({ static: 4, gone: 3, once: 2 });
  });
});

describe('formatting', () => {
  it.each([
    ['static', '[d]\nsequence = 7000,8000:udp\n', ['sequence', '7000/tcp, 8000/udp']],
    ['static, any order', '[d]\nsequence = 7000,8000\norder = any\n', ['sequence', '7000/tcp, 8000/tcp (any order)']],
  ])('%s', (_name, ini, expected) => {
    expect(describeKnock(config(ini).doors[0]!)).toEqual(expected);
  });

  it('one-time', () => {
    const [door] = config('[d]\nsequence = 1\n').doors;
    expect(describeKnock({ ...door!, knock: { kind: 'one-time', sequences: [FIRST, SECOND] } })).toEqual(['one_time_sequences', '2 sequences, used in order']);
    expect(formatStep(step(9000, 'udp'))).toBe('9000/udp');
  });
});
