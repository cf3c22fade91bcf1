import type { LogLimit } from '../config/types.js';

// Source addresses the per-source LOG limit keeps at most, per family (nftables set size,
// hashlimit htable-max): about 8 MB of kernel memory when full.
export const LOG_LIMIT_SOURCES = 65_536;

// Seconds an idle source is kept: by then its bucket has refilled (burst / rate), so
// forgetting it changes nothing, and the table holds only sources seen in the last seconds.
export function logLimitIdle(limit: LogLimit): number {
  return Math.max(1, Math.ceil(limit.burst / limit.rate));
}
