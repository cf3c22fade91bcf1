import { parse as parseIni } from 'ini';
import { withoutHeaderComments } from './raw-lines.js';

// An INI text's sections, as every reader of a config needs them: the daemon's, the commands
// that only look for control_socket, and the knock client's. A comment after a section header
// is dropped first (ini would read that line as a key of the section before). Keys above the
// first section are left out: checkRawLines reports each of their lines.
export function readSections(text: string): Map<string, Record<string, unknown>> {
  const sections = flattenSections(parseIni(withoutHeaderComments(text)) as Record<string, unknown>);
  sections.delete('');
  return sections;
}

// ini turns `[a.b]` into nested objects; a door called "a.b" is put back together here.
function flattenSections(parsed: Record<string, unknown>, prefix = ''): Map<string, Record<string, unknown>> {
  const sections = new Map<string, Record<string, unknown>>();
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      sections.set(prefix, { ...(sections.get(prefix) ?? {}), [name]: value });
      continue;
    }
    const fullName = prefix === '' ? name : `${prefix}.${name}`;
    const own: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
        for (const [sub, subValues] of flattenSections({ [key]: inner }, fullName)) sections.set(sub, subValues);
      } else {
        own[key] = inner;
      }
    }
    if (Object.keys(own).length > 0 || !sections.has(fullName)) sections.set(fullName, own);
  }
  return sections;
}
