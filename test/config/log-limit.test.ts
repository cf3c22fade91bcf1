import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError, formatProblem } from '../../src/config/problems.js';
import { configProblems, configWarnings } from '../helpers/config-problems.js';

const OPTIONS = '[options]\nwhitelist = 192.0.2.10\n';
// configProblems, with a one_time_sequences file `seqs` whose longest sequence has 3 steps.
function problemsWithFiles(text: string): string[] {
  try {
    parseConfig(text, 'knockwatch.ini', undefined, () => '7000\n7000,7001,7002\n');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}
const steps = (count: number, from = 7000): string => Array.from({ length: count }, (_, i) => from + i).join(',');

describe('config: log_limit and log_burst', () => {
  it.each([
    // the defaults: far above a knock at human speed, far below a flood
    ['', { rate: 20, burst: 60 }],
    ['log_limit = 5/second\nlog_burst = 10\n', { rate: 5, burst: 10 }],
    ['log_limit = 100/s\n', { rate: 100, burst: 60 }],
    ['log_limit = 3 / sec\n', { rate: 3, burst: 60 }],
    ['LOG_LIMIT = OFF\n', undefined],
  ])('%j', (options, limit) => {
    expect(parseConfig(`${OPTIONS}${options}[d]\nsequence = 1\n`, 'k.ini').options.logLimit).toEqual(limit);
  });

  it.each([
    ['log_limit = 20', 'knockwatch.ini [options] log_limit: expected a rate per source (an IPv4 address, an IPv6 /64) such as 20/second (1 to 10000), or off, found "20"'],
    ['log_limit = 20/minute', 'knockwatch.ini [options] log_limit: expected a rate per source (an IPv4 address, an IPv6 /64) such as 20/second (1 to 10000), or off, found "20/minute"'],
    ['log_limit = 0/second', 'knockwatch.ini [options] log_limit: expected a rate per source (an IPv4 address, an IPv6 /64) such as 20/second (1 to 10000), or off, found "0/second"'],
    ['log_limit = 10001/second', 'knockwatch.ini [options] log_limit: expected a rate per source (an IPv4 address, an IPv6 /64) such as 20/second (1 to 10000), or off, found "10001/second"'],
    ['log_burst = 0', 'knockwatch.ini [options] log_burst: expected a whole number from 1 to 10000, found "0"'],
    ['log_burst = 10001', 'knockwatch.ini [options] log_burst: expected a whole number from 1 to 10000, found "10001"'],
  ])('%j is refused', (option, problem) => {
    expect(configProblems(`${OPTIONS}${option}\n[d]\nsequence = 1\n`)).toEqual([problem]);
  });
});

describe('config: a door\'s steps must fit under the LOG limit', () => {
  it.each([
    // more steps than the burst: a knock sent back-to-back loses the rest
    ['log_burst = 4\n', '[d]\nsequence = 7000,7001,7002,7003,7004\n', [
      'knockwatch.ini [d] sequence: expected at most log_burst (4) steps, or a knock sent back-to-back loses the rest in the firewall (raise log_burst in [options]), found "5 steps"',
    ]],
    // one-time doors: the longest of their sequences
    ['log_burst = 2\n', '[d]\none_time_sequences = seqs\n', [
      'knockwatch.ini [d] one_time_sequences: expected at most log_burst (2) steps, or a knock sent back-to-back loses the rest in the firewall (raise log_burst in [options]), found "3 steps"',
    ]],
    // the last step at the limit rate comes after seq_timeout: (steps - 1) / rate
    ['log_limit = 1/second\n', `[d]\nsequence = ${steps(5)}\nseq_timeout = 3.9\n`, [
      'knockwatch.ini [d] seq_timeout: expected at least 4 s: 5 steps at log_limit (1/second) take that long (raise log_limit in [options], or seq_timeout), found "3.9 s"',
    ]],
    ['log_limit = 3/second\n', `[d]\nsequence = ${steps(3)}\nseq_timeout = 0.5\n`, [
      'knockwatch.ini [d] seq_timeout: expected at least 0.667 s: 3 steps at log_limit (3/second) take that long (raise log_limit in [options], or seq_timeout), found "0.5 s"',
    ]],
    // at the limit rate a step is logged 1/rate after the last: later than step_timeout
    ['log_limit = 2/second\n', `[d]\nsequence = ${steps(3)}\nseq_timeout = 30\nstep_timeout = 0.4\n`, [
      'knockwatch.ini [d] step_timeout: expected at least 0.5 s: at log_limit (2/second) a step is logged that long after the last (raise log_limit in [options], or step_timeout), found "0.4 s"',
    ]],
    // both, for each door that does not fit
    ['log_limit = 1/second\nlog_burst = 2\n', `[a]\nsequence = ${steps(3)}\nseq_timeout = 1\n[b]\nsequence = 8000,8001\nseq_timeout = 1\n`, [
      'knockwatch.ini [a] sequence: expected at most log_burst (2) steps, or a knock sent back-to-back loses the rest in the firewall (raise log_burst in [options]), found "3 steps"',
      'knockwatch.ini [a] seq_timeout: expected at least 2 s: 3 steps at log_limit (1/second) take that long (raise log_limit in [options], or seq_timeout), found "1 s"',
    ]],
  ])('%j %j is refused', (options, doors, problems) => {
    expect(problemsWithFiles(`${OPTIONS}${options}${doors}`)).toEqual(problems);
  });

  it.each([
    // exactly at the edges
    ['log_burst = 5\n', `[d]\nsequence = ${steps(5)}\n`],
    ['log_limit = 1/second\n', `[d]\nsequence = ${steps(5)}\nseq_timeout = 4\n`],
    ['log_limit = 2/second\n', `[d]\nsequence = ${steps(3)}\nseq_timeout = 30\nstep_timeout = 0.5\n`],
    // a single step always fits in time; no limit, no fit to check
    ['log_limit = 1/second\n', '[d]\nsequence = 7000\nstep_timeout = 0.1\n'],
    ['log_limit = 1/second\n', '[d]\nsequence = 7000\nseq_timeout = 0.0001\n'],
    ['log_limit = off\nlog_burst = 1\n', `[d]\nsequence = ${steps(32)}\nseq_timeout = 0.1\n`],
  ])('%j %j fits', (options, doors) => {
    expect(configProblems(`${OPTIONS}${options}${doors}`)).toEqual([]);
  });
});

describe('config: log limit warnings', () => {
  it.each([
    ['log_limit = off\n', '[d]\nsequence = 1\n', [
      'knockwatch.ini [options] log_limit: off: the knock LOG rules log every packet, so one flooding source can fill the kernel log and crowd out real knocks.',
    ]],
    ['log_limit = off\nlog_burst = 9\n', '[d]\nsequence = 1\n', [
      'knockwatch.ini [options] log_limit: off: the knock LOG rules log every packet, so one flooding source can fill the kernel log and crowd out real knocks.',
      'knockwatch.ini [options] log_burst: no effect with log_limit = off.',
    ]],
    // every door knocked back-to-back from one address does not fit in the burst
    ['log_burst = 5\n', '[a]\nsequence = 7000,7001,7002\n[b]\nsequence = 8000,8001,8002\n', [
      'knockwatch.ini [options] log_burst: 5 is less than the 6 steps of all 2 doors: one address knocking them back-to-back loses steps beyond 5 in the firewall unless it sends them slower than log_limit (20/second).',
    ]],
    ['log_burst = 6\n', '[a]\nsequence = 7000,7001,7002\n[b]\nsequence = 8000,8001,8002\n', []],
    ['', '[d]\nsequence = 1\n', []],
  ])('%j %j', (options, doors, warnings) => {
    expect(configWarnings(`${OPTIONS}${options}${doors}`)).toEqual(warnings);
  });
});
