import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/config/problems.js';

const parse = (ini: string) => parseConfig(ini, 'k.ini', undefined, () => '7000,8000\n7100,8100,9100,9200\n', () => Buffer.from('secret'));
const timing = (ini: string) => {
  const [door] = parse(ini).doors;
  return { seqTimeout: door?.seqTimeout, stepTimeout: door?.stepTimeout };
};

describe('step_timeout', () => {
  it.each([
    // both given: each applies
    ['[d]\nsequence = 7000,8000,9000\nstep_timeout = 5\nseq_timeout = 30', { seqTimeout: 30_000, stepTimeout: 5000 }],
    // only step_timeout: seq_timeout is step_timeout times the steps (no limit of its own)
    ['[d]\nsequence = 7000,8000,9000\nstep_timeout = 5', { seqTimeout: 15_000, stepTimeout: 5000 }],
    ['[d]\nsequence = 7000,8000,9000\nstep_timeout = 500ms', { seqTimeout: 1500, stepTimeout: 500 }],
    // one-time sequences: the longest line counts
    ['[d]\none_time_sequences = /etc/knockwatch/once\nstep_timeout = 5', { seqTimeout: 20_000, stepTimeout: 5000 }],
    // a rotating door: its length
    ['[d]\nsecret_file = /etc/knockwatch/secret\nport_range = 10000-10999\nlength = 6\nstep_timeout = 2', { seqTimeout: 12_000, stepTimeout: 2000 }],
  ])('%j', (ini, expected) => {
    expect(timing(ini)).toEqual(expected);
  });

  it.each([
    ['[d]\nsequence = 7000,8000\nstep_timeout = 0', 'k.ini [d] step_timeout: expected a duration above 0, found "0"'],
    ['[d]\nsequence = 7000,8000\nstep_timeout = soon', 'k.ini [d] step_timeout: expected a duration (seconds, or a number with ms, s, m, h or d), found "soon"'],
  ])('%j is refused', (ini, message) => {
    expect(() => parse(ini)).toThrow(ConfigError);
    expect(() => parse(ini)).toThrow(message);
  });
});
