import { journalEntryToLine, type JournalLines } from './journal-entry.js';

// A `journalctl -o json` export has one JSON object per line; a syslog file never starts
// with `{`.
export function isJournalJson(firstLine: string): boolean {
  return firstLine.startsWith('{') && journalJsonObject(firstLine) !== undefined;
}

// One export line as the synthetic line the live journal source would have handed out, or
// undefined for an entry it would have dropped (or a line that is no JSON object).
export function journalJsonToLine(jsonLine: string, lines: JournalLines): string | undefined {
  const entry = journalJsonObject(jsonLine);
  return entry === undefined ? undefined : journalEntryToLine(entry, lines);
}

export function journalJsonLines(jsonLines: Iterable<string>, lines: JournalLines): string[] {
  const out: string[] = [];
  for (const jsonLine of jsonLines) {
    const line = journalJsonToLine(jsonLine, lines);
    if (line !== undefined) out.push(line);
  }
  return out;
}

function journalJsonObject(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
