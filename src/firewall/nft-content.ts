import { normalizeAddress } from '../net/address.js';

// What `nft -j list table` shows, split in two: the structure (every set, chain and rule,
// whitelist elements included, handles left out) compared as a whole, and the addresses in
// the grant and ban sets, compared as sets (their timeouts run down all the time).
export interface NftContent {
  structure: string;
  elements: Map<string, Set<string>>;
  rules: number;
  // Sets with no element at all (whitelist sets included).
  emptySets: Set<string>;
  // Every set's definition as listed (no elements, no handle), and every chain's name.
  sets: Map<string, Record<string, unknown>>;
  chains: string[];
  // Whether the table holds an object of a kind knockwatch never makes (a map, a counter…).
  foreign: boolean;
}

export function isEntrySet(name: string): boolean {
  return /^(grant[46]_\d+|banned[46])$/.test(name);
}

// The per-source LOG limit's and max_connections' sets: the kernel adds and expires their
// elements by itself.
function isLimitSet(name: string): boolean {
  return /^(loglimit[46]|connlimit[46]_\d+)$/.test(name);
}

// undefined when the text is not nft's JSON listing.
export function readNftContent(json: string): NftContent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const items = (parsed as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) return undefined;
  const structure: unknown[] = [];
  const elements = new Map<string, Set<string>>();
  let rules = 0;
  const emptySets = new Set<string>();
  const sets = new Map<string, Record<string, unknown>>();
  const chains: string[] = [];
  let foreign = false;
  for (const item of items as Record<string, unknown>[]) {
    if ('metainfo' in item) continue;
    if ('rule' in item) rules++;
    if ('chain' in item) chains.push(String((item.chain as Record<string, unknown>).name));
    else if (!('rule' in item || 'set' in item || 'table' in item)) foreign = true;
    const set = item.set as Record<string, unknown> | undefined;
    if (set !== undefined && !(Array.isArray(set.elem) && set.elem.length > 0)) emptySets.add(String(set.name));
    const name = String(set?.name);
    if (set !== undefined) {
      const { elem: _elem, handle: _handle, ...definition } = set;
      sets.set(name, definition);
    }
    // Their elements are compared apart (grants, bans) or not at all (the limit's sources).
    if (set !== undefined && (isEntrySet(name) || isLimitSet(name))) {
      const { elem, ...rest } = set;
      if (isEntrySet(name)) elements.set(name, new Set((Array.isArray(elem) ? elem : []).map(readElement)));
      structure.push({ set: rest });
    } else {
      structure.push(item);
    }
  }
  return { structure: JSON.stringify(structure, (key, value: unknown) => (key === 'handle' ? undefined : value)), elements, rules, emptySets, sets, chains, foreign };
}

function readElement(elem: unknown): string {
  const value = typeof elem === 'object' && elem !== null && 'elem' in elem ? (elem as { elem: { val?: unknown } }).elem.val : elem;
  if (typeof value === 'string') return normalizeAddress(value) ?? value;
  return JSON.stringify(value);
}
