import { parseDuration } from './parse-values.js';
import type { ConfigWarning } from './problems.js';
import type { SectionReader } from './section-reader.js';

const CONSEQUENCES: Record<string, string> = {
  open_for: 'which means "until closed"',
  cmd_timeout: 'which means "until closed"',
  seq_timeout: 'so the sequence can never complete',
  // knockd's name for seq_timeout
  timeout: 'so the sequence can never complete',
};

// `open_for = 0.0001` is more than 0 as written but 0 ms once rounded, and 0 means something
// else entirely for some keys.
export function warnZeroDurations(reader: SectionReader, keys: readonly string[]): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  for (const key of keys) {
    if (!reader.has(key)) continue;
    const text = reader.text(key) ?? '';
    const parsed = parseDuration(text);
    if (!parsed.ok || parsed.value !== 0 || !/[1-9]/.test(text)) continue;
    const consequence = CONSEQUENCES[key] ?? 'so it does nothing';
    warnings.push({ file: reader.file, section: reader.section, key: reader.originalKey(key), message: `"${text}" rounds to 0 ms, ${consequence}.` });
  }
  return warnings;
}
