// ini turns `[a.b]` into nested objects; a door called "a.b" is put back together here.
export function flattenSections(parsed: Record<string, unknown>, prefix = ''): Map<string, Record<string, unknown>> {
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
