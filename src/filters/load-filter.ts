import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isSshKind } from './build-ssh-auth.js';
import { readFilterConf } from './read-filter-conf.js';

export interface FilterRule {
  kind: string;
  regex: RegExp;
  // Named groups by their capture index: the regex runs without names, which spares
  // building a groups object for every line.
  groupNames: readonly (string | undefined)[];
  // The text every match starts with, checked before the regex runs.
  prefix: string;
}

export interface Filter {
  name: string;
  // Syslog tags whose lines may produce events; no other line is ever matched.
  tags: ReadonlySet<string>;
  // `none`: a line whose tag carries a pid (`kernel[1234]:`) is not one of these tags'
  // lines: the kernel has no pid, only a process forging its tag has one.
  pid: 'none' | 'any';
  // A substring every matching message holds: lines without it are missed without a regex.
  contains: string | undefined;
  rules: readonly FilterRule[];
  ignore: readonly RegExp[];
}

export interface FilterMatch {
  kind: string;
  groups: Record<string, string | undefined>;
}

// The events the code can build from a match (filters/*.conf name them per regex): `knock`,
// an sshd line as `class/kind` (build-ssh-auth.ts), and `other`: a line the filter reads
// and counts apart that is no event (a packet of another protocol).
function isEventKind(kind: string): boolean {
  return kind === 'knock' || kind === 'other' || isSshKind(kind);
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
  const pid = definition.get('pid') ?? 'any';
  if (pid !== 'none' && pid !== 'any') throw new Error(`${fileName} [Definition] pid: expected none or any, found "${pid}".`);
  const rules = splitLines(definition.get('failregex') ?? '').map((line) => {
    const colon = /^([a-z][\w/-]*):\s+(.*)$/.exec(line);
    if (!colon) throw new Error(`${fileName} [Definition] failregex: expected "kind: ^regex$", found "${line.slice(0, 60)}".`);
    const kind = colon[1] ?? '';
    if (!isEventKind(kind)) throw new Error(`${fileName} [Definition] failregex: expected knock, other or an sshd class/kind (failure/failed), found "${kind}".`);
    const named = compileAnchored(colon[2] ?? '', fileName, 'failregex');
    if (named.source.includes('\\k<')) throw new Error(`${fileName} [Definition] failregex: named back references (\\k<name>) are not supported.`);
    const { source, names } = stripGroupNames(named.source);
    return { kind, regex: new RegExp(source), groupNames: names, prefix: literalPrefix(source) };
  });
  if (rules.length === 0) throw new Error(`${fileName} [Definition] failregex: expected at least one regex, found none.`);
  const ignore = splitLines(definition.get('ignoreregex') ?? '').map((line) => compileAnchored(line, fileName, 'ignoreregex'));
  const contains = definition.get('contains');
  return {
    name: fileName.replace(/\.conf$/, ''),
    tags: new Set(tags),
    pid,
    contains: contains === undefined || contains === '' ? undefined : contains,
    rules,
    ignore,
  };
}

export function matchFilter(filter: Filter, message: string): FilterMatch | undefined {
  if (filter.contains !== undefined && !message.includes(filter.contains)) return undefined;
  for (const rule of filter.rules) {
    if (!message.startsWith(rule.prefix)) continue;
    const match = rule.regex.exec(message);
    if (match === null) continue;
    for (const ignore of filter.ignore) if (ignore.test(message)) return undefined;
    return { kind: rule.kind, groups: namedGroups(rule, match) };
  }
  return undefined;
}

export function namedGroups(rule: FilterRule, match: RegExpExecArray): Record<string, string | undefined> {
  const groups: Record<string, string | undefined> = {};
  const names = rule.groupNames;
  for (let i = 1; i < names.length; i++) {
    const name = names[i];
    if (name !== undefined && match[i] !== undefined) groups[name] = match[i];
  }
  return groups;
}

export interface RuleMatch {
  // The rule's place in filter.rules.
  index: number;
  match: RegExpExecArray;
}

// matchFilter's answer (the first rule in the file's order that matches, unless an
// ignoreregex does), without trying every rule: the rules are sorted at load time by the
// characters a match can start with (firstCharacters), and a message tries only those its
// first character allows; a rule that can start with anything is tried for every message.
export function createRuleMatcher(filter: Filter): (message: string) => RuleMatch | undefined {
  const rules = filter.rules;
  const starts = rules.map((rule) => firstCharacters(rule.regex.source));
  const anyStart = rules.flatMap((_rule, index) => (starts[index] === undefined ? [index] : []));
  const byFirst = new Map<number, number[]>();
  for (const first of new Set(starts.join(''))) {
    byFirst.set(first.charCodeAt(0), rules.flatMap((_rule, index) => (starts[index] === undefined || starts[index].includes(first) ? [index] : [])));
  }
  const { contains, ignore } = filter;
  return (message) => {
    if (contains !== undefined && !message.includes(contains)) return undefined;
    const candidates = byFirst.get(message.charCodeAt(0)) ?? anyStart;
    for (let i = 0; i < candidates.length; i++) {
      const index = candidates[i] as number;
      const rule = rules[index] as FilterRule;
      if (!message.startsWith(rule.prefix)) continue;
      const match = rule.regex.exec(message);
      if (match === null) continue;
      for (const regex of ignore) if (regex.test(message)) return undefined;
      return { index, match };
    }
    return undefined;
  };
}

// The characters a match of `^source` can start with, or undefined when it cannot tell (a
// class, a dot, an escape other than punctuation, a quantifier that may skip the start, a
// lookaround, an alternative at the top). `^(?:error: )?Received` can start with e or R.
export function firstCharacters(source: string): string | undefined {
  if (!source.startsWith('^') || alternativeEnds(source, 1, source.length).length > 1) return undefined;
  return firstOfSequence(source, 1, source.length);
}

function firstOfAlternatives(source: string, start: number, end: number): string | undefined {
  let chars = '';
  let from = start;
  for (const to of alternativeEnds(source, start, end)) {
    const first = firstOfSequence(source, from, to);
    if (first === undefined) return undefined;
    chars += first;
    from = to + 1;
  }
  return chars;
}

function firstOfSequence(source: string, start: number, end: number): string | undefined {
  if (start >= end) return undefined;
  const c = source[start] as string;
  let first: string;
  let next: number;
  if (c === '(') {
    const close = closingParen(source, start);
    if (close === -1 || close >= end) return undefined;
    let inner = start + 1;
    if (source.startsWith('?:', inner)) inner += 2;
    else if (source[inner] === '?') return undefined;
    const group = firstOfAlternatives(source, inner, close);
    if (group === undefined) return undefined;
    first = group;
    next = close + 1;
  } else if (c === '\\') {
    const escaped = source[start + 1] ?? '';
    if (escaped === '' || /[A-Za-z0-9]/.test(escaped)) return undefined;
    first = escaped;
    next = start + 2;
  } else if ('.[]^$|?*+{})'.includes(c)) {
    return undefined;
  } else {
    first = c;
    next = start + 1;
  }
  const quantifier = source[next];
  if (quantifier === '{') return undefined;
  if (quantifier !== '?' && quantifier !== '*') return first;
  // An optional group: what follows can start the match too (a lazy `??` reads as no start).
  if (c !== '(') return undefined;
  const rest = firstOfSequence(source, next + 1, end);
  return rest === undefined ? undefined : first + rest;
}

// Where each top-level alternative of source[start, end) ends (the `|`s, then `end`).
function alternativeEnds(source: string, start: number, end: number): number[] {
  const ends: number[] = [];
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') i = classEnd(source, i);
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) ends.push(i);
  }
  ends.push(end);
  return ends;
}

function closingParen(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') i = classEnd(source, i);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

// The `]` closing the class that opens at source[open].
function classEnd(source: string, open: number): number {
  for (let i = open + 1; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']') return i;
  }
  return source.length;
}

// The literal text right after `^`, up to the first regex construct (escaped punctuation
// counts as literal; a quantifier takes back the character it applies to).
export function literalPrefix(source: string): string {
  let prefix = '';
  for (let i = 1; i < source.length; i++) {
    const c = source[i] as string;
    let literal: string | undefined;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[A-Za-z0-9]/.test(next) || next === '') break;
      literal = next;
      i++;
    } else if (!'^$.|?*+()[]{}'.includes(c)) {
      literal = c;
    } else {
      if ('?*{'.includes(c)) prefix = prefix.slice(0, -1);
      break;
    }
    const following = source[i + 1];
    if (following !== undefined && '?*{'.includes(following)) break;
    prefix += literal;
  }
  return prefix;
}

// Turns `(?<name>...)` into `(...)` and lists each capture's name by its index.
export function stripGroupNames(source: string): { source: string; names: (string | undefined)[] } {
  const names: (string | undefined)[] = [undefined];
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      out += source.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      const named = /^\?<([A-Za-z_]\w*)>/.exec(source.slice(i + 1, i + 40));
      if (named) {
        names.push(named[1]);
        out += '(';
        i += named[0].length;
        continue;
      }
      if (source[i + 1] !== '?') names.push(undefined);
    }
    out += c;
  }
  return { source: out, names };
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
