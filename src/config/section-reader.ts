import type { ConfigProblem } from './problems.js';
import type { Parsed } from './parse-values.js';

// Reads one INI section's keys case-insensitively (knockd's are CamelCase), records every
// problem instead of stopping at the first, and reports the keys nobody asked for.
export class SectionReader {
  private readonly values = new Map<string, { key: string; value: string }>();
  private readonly taken = new Set<string>();

  constructor(
    readonly file: string,
    readonly section: string,
    raw: Record<string, unknown>,
    private readonly problems: ConfigProblem[],
  ) {
    for (const [key, value] of Object.entries(raw)) {
      const lower = key.toLowerCase();
      if (Array.isArray(value) || (typeof value === 'object' && value !== null)) {
        // Not shown: it may be a secret (`secret[] = ...` or a Redis URL with a password).
        this.problem(key, 'a single value (key = value, not key[] = value)', Array.isArray(value) ? `a list of ${value.length}` : 'a section');
        continue;
      }
      // A key given twice (in any case) is reported from the raw lines; the last one is kept.
      this.values.set(lower, { key, value: value === true ? '' : String(value).trim() });
    }
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  text(key: string): string | undefined {
    this.taken.add(key);
    return this.values.get(key)?.value;
  }

  parse<T>(key: string, parser: (text: string) => Parsed<T>): T | undefined;
  parse<T>(key: string, parser: (text: string) => Parsed<T>, fallback: T): T;
  parse<T>(key: string, parser: (text: string) => Parsed<T>, fallback?: T): T | undefined {
    const text = this.text(key);
    if (text === undefined) return fallback;
    const parsed = parser(text);
    if (parsed.ok) return parsed.value;
    this.problem(key, parsed.expected, parsed.found);
    return fallback;
  }

  problem(key: string, expected: string, found: string): void {
    const original = this.values.get(key.toLowerCase())?.key ?? key;
    this.problems.push({ file: this.file, section: this.section, key: original, expected, found });
  }

  // Keys present but never read: unknown unless listed as accepted-but-unused.
  leftovers(): string[] {
    return [...this.values.keys()].filter((key) => !this.taken.has(key));
  }

  originalKey(lower: string): string {
    return this.values.get(lower)?.key ?? lower;
  }
}
