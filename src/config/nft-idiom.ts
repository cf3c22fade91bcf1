import type { KnockdAction } from './knockd-action.js';
import { parseDuration } from './parse-values.js';

const FAMILIES = ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'];

// `nft add|delete element [FAMILY] TABLE SET { %IP% [timeout 30s] }`, the braces as separate
// words or quoted as one, or the whole nft command quoted as one word.
export function readNftCommand(args: readonly string[]): KnockdAction | undefined {
  const words = args.length === 1 ? (args[0] ?? '').trim().split(/\s+/) : [...args];
  const [verb, element] = words.splice(0, 2);
  const op = verb === 'add' ? 'add' : verb === 'delete' ? 'delete' : undefined;
  if (op === undefined || element !== 'element') return undefined;
  const family = FAMILIES.includes(words[0] ?? '') ? (words.shift() as string) : 'ip';
  const [table, set] = words.splice(0, 2);
  if (table === undefined || set === undefined || !/^[\w.-]+$/.test(table) || !/^[\w.-]+$/.test(set)) return undefined;
  const braces = /^\{\s*%IP%(?:\s+timeout\s+(\d+(?:ms|s|m|h|d)))?\s*\}$/.exec(words.join(' '));
  if (!braces) return undefined;
  const timeoutText = braces[1];
  let timeout: number | undefined;
  if (timeoutText !== undefined) {
    const parsed = parseDuration(timeoutText);
    if (!parsed.ok || op === 'delete') return undefined;
    timeout = parsed.value;
  }
  return { op, target: 'set', set: `${family} ${table} ${set}`, timeout };
}
