import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readFilterConf } from './read-filter-conf.js';

export interface FilterRule {
  kind: string;
  regex: RegExp;
}

export interface Filter {
  name: string;
  // Syslog tags whose lines may produce events; no other line is ever matched.
  tags: ReadonlySet<string>;
  // A substring every matching message holds: lines without it are missed without a regex.
  contains: string | undefined;
  rules: readonly FilterRule[];
  ignore: readonly RegExp[];
}

export interface FilterMatch {
  kind: string;
  groups: Record<string, string | undefined>;
}

const HOST_PATTERN = '(?:\\[(?<host6>[0-9A-Fa-f:.]{2,45})\\]|(?<host>[0-9A-Fa-f:.]{2,45}))';

export function loadFilterFile(path: string): Filter {
  const text = readFileSync(path, 'utf8');
  return compileFilter(text, basename(path));
}

// Compiles a filter's [Definition]: `failregex` lines are `kind: ^regex$`, each anchored
// at both ends; `<HOST>` stands for an address, bracketed or not.
export function compileFilter(text: string, fileName: string): Filter {
  const conf = readFilterConf(text, fileName);
  const definition = conf.get('Definition');
  if (!definition) throw new Error(`${fileName}: no [Definition] section.`);
  const tags = splitList(definition.get('tags') ?? '');
  if (tags.length === 0) throw new Error(`${fileName} [Definition] tags: expected the syslog tags this filter reads, found nothing.`);
  const rules = splitLines(definition.get('failregex') ?? '').map((line) => {
    const colon = /^([a-z][\w-]*):\s+(.*)$/.exec(line);
    if (!colon) throw new Error(`${fileName} [Definition] failregex: expected "kind: ^regex$", found "${line.slice(0, 60)}".`);
    return { kind: colon[1] ?? '', regex: compileAnchored(colon[2] ?? '', fileName, 'failregex') };
  });
  if (rules.length === 0) throw new Error(`${fileName} [Definition] failregex: expected at least one regex, found none.`);
  const ignore = splitLines(definition.get('ignoreregex') ?? '').map((line) => compileAnchored(line, fileName, 'ignoreregex'));
  const contains = definition.get('contains');
  return {
    name: fileName.replace(/\.conf$/, ''),
    tags: new Set(tags),
    contains: contains === undefined || contains === '' ? undefined : contains,
    rules,
    ignore,
  };
}

export function matchFilter(filter: Filter, message: string): FilterMatch | undefined {
  if (filter.contains !== undefined && !message.includes(filter.contains)) return undefined;
  for (const rule of filter.rules) {
    const match = rule.regex.exec(message);
    if (match === null) continue;
    for (const ignore of filter.ignore) if (ignore.test(message)) return undefined;
    return { kind: rule.kind, groups: match.groups ?? {} };
  }
  return undefined;
}

function compileAnchored(source: string, fileName: string, key: string): RegExp {
  if (!source.startsWith('^') || !source.endsWith('$') || source.endsWith('\\$')) {
    throw new Error(`${fileName} [Definition] ${key}: every regex must be anchored with ^ and $, found "${source.slice(0, 60)}".`);
  }
  try {
    return new RegExp(source.replaceAll('<HOST>', HOST_PATTERN));
  } catch (error) {
    throw new Error(`${fileName} [Definition] ${key}: ${(error as Error).message}.`);
  }
}

function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((item) => item !== '');
}

function splitLines(value: string): string[] {
  return value.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}
