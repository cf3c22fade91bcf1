import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { md5HourSecretProblem, md5HourSequence } from '../../src/doors/md5-hour.js';

// The recipe's function as users run it, word for word; only `date` is pointed at the hour
// under test (`date -d @T`), still the real date, md5sum, awk, tr and dc.
const RECIPE = String.raw`
date() { command date -d "@$T" "$@"; }
knockports() {
  hash=$(TZ=UTC date +%Y-%m-%d-%H-$secret | md5sum | awk '{print $1}' | tr a-z A-Z)
  num=$(echo 16i $hash f | dc)
  for k in 0 1 2 3 4; do
    port_k=$(echo $num $nbports $k ^ / $nbports % $bottomport + f | dc)
    printf '%s ' "$port_k"
  done
  echo
}
`;

const SECRETS = ['s3cret', 'correct-horse-battery', 'x', 'A1b2C3d4E5f6G7h8I9j0', 'with.dots_and-dashes', 'ünicode-not', "quote'and\"dq", 'semi;colon', 'dollar$sign', 'back`tick'];
const RANGES = [[10000, 10999], [1024, 65535], [40000, 40006], [2000, 2000 + 251], [7000, 7001]] as const;

function hoursUnderTest(): { t: number; secret: string; low: number; high: number }[] {
  const cases = [];
  let t = Date.UTC(2024, 1, 28, 22) / 1000;
  for (let index = 0; index < 200; index++) {
    // Across a leap day, a month end and a year end, at varying minutes within the hour.
    t += 3600 * (1 + (index % 7) * 13) + (index % 60) * 59;
    const secret = SECRETS[index % SECRETS.length] as string;
    const [low, high] = RANGES[index % RANGES.length] as readonly [number, number];
    cases.push({ t, secret, low, high });
  }
  return cases;
}

describe('md5-hour', () => {
  it('computes what the shell recipe computes, for 200 hours × secrets × ranges (one bash process)', () => {
    const cases = hoursUnderTest().filter((entry) => md5HourSecretProblem(entry.secret) === undefined);
    expect(cases.length).toBeGreaterThan(150);
    const dir = mkdtempSync(join(tmpdir(), 'kw-md5-'));
    try {
      const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
      const lines = cases.map((entry) => `T=${entry.t} secret=${quote(entry.secret)} nbports=${entry.high - entry.low + 1} bottomport=${entry.low} knockports`);
      writeFileSync(join(dir, 'recipe.sh'), `${RECIPE}\n${lines.join('\n')}\n`);
      const output = execFileSync('bash', [join(dir, 'recipe.sh')], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
      const expected = output.trim().split('\n').map((line) => line.trim().split(' ').map(Number));
      const ours = cases.map((entry) => md5HourSequence(entry.secret, Math.floor(entry.t / 3600) * 3600, { low: entry.low, high: entry.high }).map((step) => step.port));
      expect(ours).toEqual(expected);
      expect(expected).toHaveLength(cases.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('gives TCP steps, the same for every minute of the hour', () => {
    const range = { low: 10000, high: 10999 };
    const hour = Date.UTC(2025, 0, 1, 5) / 1000;
    expect(md5HourSequence('s3cret', hour, range)).toEqual(md5HourSequence('s3cret', hour, range));
    expect(md5HourSequence('s3cret', hour, range).every((step) => step.proto === 'tcp' && step.port >= 10000 && step.port <= 10999)).toBe(true);
    expect(md5HourSequence('s3cret', hour + 3600, range)).not.toEqual(md5HourSequence('s3cret', hour, range));
  });

  // Secrets the recipe would not pass to date as they are: refused, not silently different.
  it.each([
    ['a % (date would read a conversion)', 'abc%Hdef'],
    ['a space (the unquoted word splits)', 'two words'],
    ['a tab', 'a\tb'],
    ['a glob *', 'a*b'],
    ['a glob ?', 'a?b'],
    ['a glob [', 'a[b]'],
    ['a backslash', 'a\\b'],
    ['nothing', ''],
    ['a non-ASCII character', 'ünicode'],
  ])('refuses a secret with %s', (_what, secret) => {
    expect(md5HourSecretProblem(secret)).toMatch(/^a secret/);
  });

  it('accepts the shell-safe punctuation the recipe passes through unchanged', () => {
    expect(md5HourSecretProblem("quote'and\"dq;$`-._")).toBeUndefined();
  });
});
