import { createHash } from 'node:crypto';
import type { DoorStep, PortRange } from '../config/types.js';

const STEPS = 5;

// Characters the recipe's `date +%Y-%m-%d-%H-$secret` would not pass through as they are:
// `%` starts a date conversion, whitespace splits the unquoted word, *?[ are glob patterns.
const UNSAFE = /[%\s*?[\]\\]/;

// Why a secret cannot be used with the md5-hour recipe, or undefined when it can. Never
// names the secret's characters: only what is refused.
export function md5HourSecretProblem(secret: string): string | undefined {
  if (secret === '') return 'a secret that is not empty';
  if (UNSAFE.test(secret)) return 'a secret without %, spaces, tabs, newlines, *, ?, [, ] or \\ (the recipe passes it to date unquoted, in its format)';
  if (/[^\x21-\x7e]/.test(secret)) return 'a secret of printable ASCII characters';
  return undefined;
}

// What the hand-made recipe computes for the hour starting at `windowStart` (epoch seconds):
//   hash=$(TZ=UTC date +%Y-%m-%d-%H-$secret | md5sum | awk '{print $1}' | tr a-z A-Z)
//   num=$(echo 16i $hash f | dc)
//   port_k=$(echo $num $nbports k ^ / $nbports % $bottomport + f | dc)   # k = 0..4
// date prints a newline after the text, and md5sum hashes it too. The ports may repeat.
export function md5HourSequence(secret: string, windowStart: number, range: PortRange): DoorStep[] {
  const hour = new Date(windowStart * 1000).toISOString().slice(0, 13).replace('T', '-');
  const num = BigInt(`0x${createHash('md5').update(`${hour}-${secret}\n`).digest('hex')}`);
  const nbports = BigInt(range.high - range.low + 1);
  const steps: DoorStep[] = [];
  for (let k = 0n; k < BigInt(STEPS); k++) steps.push({ port: Number(((num / nbports ** k) % nbports) + BigInt(range.low)), proto: 'tcp' });
  return steps;
}
