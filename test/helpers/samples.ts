import { readFileSync } from 'node:fs';

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
