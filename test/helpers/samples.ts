import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import type { KnockEvent } from '../../src/filters/events.js';
import type { Filter } from '../../src/filters/load-filter.js';
import type { LineOutcome } from '../../src/filters/parse-line.js';

export interface Sample {
  lineNumber: number;
  line: string;
  expect: Record<string, unknown>;
}

// Reads an annotated sample log: each `# expect: {...}` applies to the next non-comment line.
// A sample line without an annotation is an error, so no sample goes unchecked.
export function readSamples(path: string): Sample[] {
  const samples: Sample[] = [];
  let pending: Record<string, unknown> | undefined;
  readFileSync(path, 'utf8').split('\n').forEach((line, index) => {
    if (line.startsWith('# expect: ')) {
      if (pending) throw new Error(`${path}:${index + 1}: two annotations in a row`);
      pending = JSON.parse(line.slice('# expect: '.length)) as Record<string, unknown>;
      return;
    }
    if (line.startsWith('#') || line === '') return;
    if (!pending) throw new Error(`${path}:${index + 1}: sample line without a "# expect:" annotation`);
    samples.push({ lineNumber: index + 1, line, expect: pending });
    pending = undefined;
  });
  if (pending) throw new Error(`${path}: annotation at the end without a sample line`);
  return samples;
}

// Checks one annotated sample against what the parser made of it; `fields` are the
// expected event fields left after the annotation's own keys are taken out.
export function checkSample(
  outcome: LineOutcome,
  sample: Sample,
  check: (event: KnockEvent, fields: Record<string, unknown>) => void,
): void {
  const { match, invalid, other, injection: _injection, ...fields } = sample.expect;
  if (other === true) {
    expect(outcome).toEqual({ status: 'other' });
    return;
  }
  if (invalid === true) {
    expect(outcome).toEqual({ status: 'invalid', reason: expect.stringMatching(/\S/) });
    return;
  }
  if (match !== true) {
    expect(['missed', 'ignored']).toContain(outcome.status);
    return;
  }
  expect(outcome.status).toBe('event');
  if (outcome.status === 'event') check(outcome.event, fields);
}

// The failregexes no sample needs: without one of them every sample still comes out the
// same, so the regex is either untested or shadowed by another one.
export function rulesNoSampleNeeds(filter: Filter, samples: readonly Sample[], parserFor: (filter: Filter) => (line: string) => LineOutcome): string[] {
  const parse = parserFor(filter);
  const outcomes = samples.map((sample) => parse(sample.line));
  return filter.rules.flatMap((rule, index) => {
    const without = parserFor({ ...filter, rules: filter.rules.filter((other) => other !== rule) });
    const needed = samples.some((sample, at) => !isDeepStrictEqual(without(sample.line), outcomes[at]));
    return needed ? [] : [`failregex ${index + 1} (${rule.kind})`];
  });
}
