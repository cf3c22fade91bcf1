// fail2ban-style filter files: `[Section]`, `key = value`, values continued on indented
// lines (one regex per line), `#` and `;` comment lines, and `%(name)s` references to other
// keys of the same section.
export type FilterConf = Map<string, Map<string, string>>;

export function readFilterConf(text: string, fileName: string): FilterConf {
  const sections: FilterConf = new Map();
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const where = `${fileName}:${index + 1}`;
    if (/^\s*([#;].*)?$/.test(line)) return;
    if (/^\s/.test(line)) {
      if (section === undefined || lastKey === undefined) throw new Error(`${where}: continuation line without a key before it.`);
      section.set(lastKey, `${section.get(lastKey) ?? ''}\n${line.trim()}`);
      return;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      section = new Map();
      sections.set(header[1] ?? '', section);
      lastKey = undefined;
      return;
    }
    const pair = /^([A-Za-z_][\w.-]*)\s*=\s?(.*)$/.exec(line);
    if (!pair || section === undefined) throw new Error(`${where}: expected "[Section]" or "key = value", found "${line.slice(0, 80)}".`);
    lastKey = pair[1] ?? '';
    section.set(lastKey, (pair[2] ?? '').trim());
  });
  for (const [name, values] of sections) {
    for (const [key, value] of values) values.set(key, interpolate(value, values, `${fileName} [${name}] ${key}`, 0));
  }
  return sections;
}

function interpolate(value: string, values: Map<string, string>, where: string, depth: number): string {
  if (depth > 10) throw new Error(`${where}: %(...)s references nest too deep (a loop?).`);
  return value.replace(/%\(([\w.-]+)\)s/g, (_match, name: string) => {
    const referenced = values.get(name);
    if (referenced === undefined) throw new Error(`${where}: refers to %(${name})s, which the section does not define.`);
    return interpolate(referenced, values, where, depth + 1);
  });
}
