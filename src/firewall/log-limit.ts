import type { LogLimit } from '../config/types.js';

// Source addresses the per-source LOG limit keeps at most, per family (nftables set size,
// hashlimit htable-max): about 8 MB of kernel memory when full.
export const LOG_LIMIT_SOURCES = 65_536;

// The bits of a source address its budget is keyed by. IPv6 by /64, what one subscriber
// holds: keyed per address, one host with a /64 would get a fresh burst from each of 2^64
// addresses, flood the log past the limit and fill the table in seconds.
export const LOG_LIMIT_PREFIX = { 4: 32, 6: 64 } as const;

// Seconds an idle source is kept: by then its bucket has refilled (burst / rate), so
// forgetting it changes nothing, and the table holds only sources seen in the last seconds.
export function logLimitIdle(limit: LogLimit): number {
  return Math.max(1, Math.ceil(limit.burst / limit.rate));
}
