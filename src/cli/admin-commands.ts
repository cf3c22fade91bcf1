import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { removeIptables } from '../firewall/iptables.js';
import { removeNftables } from '../firewall/nftables.js';
import { DEFAULT_CONFIG } from './inputs.js';
import type { CliValues } from './values.js';
import { line, type Deps } from './output.js';
import { STARTER_CONFIG } from './starter-config.js';
import { UsageError } from './usage-error.js';

export function runInit(rest: readonly string[], values: CliValues & { force?: boolean | undefined }, deps: Deps): number {
  if (rest.length > 0) throw new UsageError(`init takes no arguments (use --config ${rest[0]})`);
  const path = values.config ?? DEFAULT_CONFIG;
  if (existsSync(path) && values.force !== true) {
    throw new UsageError(`${path} exists; not overwriting it (use --force to replace it)`);
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, STARTER_CONFIG, { mode: 0o640 });
  line(deps.stdout, `Wrote ${path}. Edit the sequence and the whitelist, then: knockwatch check --config ${path}`);
  return 0;
}

// Removes knockwatch's own firewall state (table inet knockwatch, the KNOCKWATCH chains and
// their INPUT jumps) and nothing else.
export async function runFlush(rest: readonly string[], deps: Deps): Promise<number> {
  if (rest.length > 0) throw new UsageError(`flush takes no arguments (found "${rest[0]}")`);
  const removed = [await removeNftables(deps.runner), await removeIptables(deps.runner)].filter((what) => what !== undefined);
  line(deps.stdout, removed.length > 0 ? `Removed ${removed.join(' and ')}.` : 'Nothing of knockwatch\'s was installed.');
  return 0;
}
