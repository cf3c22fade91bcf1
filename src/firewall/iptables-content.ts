import { normalizeAddress } from '../net/address.js';

// What `iptables -S KNOCKWATCH` shows, split in two: the structure (every rule but grants
// and bans, in order, as printed) and a key per grant and ban rule. iptables prints rules
// back in its own way (quotes, reordered states), so grants and bans are read for their
// meaning rather than their text.
export interface IptablesContent {
  structure: string[];
  entries: Set<string>;
}

// `upto`: the rule's max_connections (connlimit --connlimit-upto), part of what it means.
export function grantKey(door: string, src: string, port: number, proto: string, upto?: number): string {
  return `grant ${door} ${src} ${proto}/${port}${upto === undefined ? '' : ` upto ${upto}`}`;
}

export function banKey(src: string): string {
  return `ban ${src}`;
}

export function readIptablesContent(text: string): IptablesContent {
  const structure: string[] = [];
  const entries = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const key = readEntryKey(splitRuleLine(line));
    if (key === undefined) structure.push(line);
    else entries.add(key);
  }
  return { structure, entries };
}

function readEntryKey(words: readonly string[]): string | undefined {
  const after = (flag: string): string | undefined => {
    const index = words.indexOf(flag);
    return index < 0 ? undefined : words[index + 1];
  };
  const comment = after('--comment');
  const source = after('-s');
  if (words[0] !== '-A' || comment === undefined || source === undefined || !comment.startsWith('knockwatch:')) return undefined;
  const src = normalizeAddress(source.replace(/\/(32|128)$/, ''));
  if (src === undefined) return undefined;
  const what = comment.slice('knockwatch:'.length);
  if (what === 'ban' && after('-j') === 'DROP') return banKey(src);
  const proto = after('-p');
  const port = Number(after('--dport'));
  if (what === 'whitelist' || after('-j') !== 'ACCEPT' || proto === undefined || !Number.isInteger(port)) return undefined;
  const upto = after('--connlimit-upto');
  return grantKey(what, src, port, proto, upto === undefined ? undefined : Number(upto));
}

// iptables -S quotes words with spaces in double quotes.
function splitRuleLine(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
}
