const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Ten years: far beyond any ban or grant, far below what kernels accept (this one takes
// 213503 days). A longer lifetime still ends in the kernel, only earlier than asked.
export const MAX_NFT_TIMEOUT = 3650 * DAY;

// nft reads at most 8 digits per unit (`timeout 100000000ms` is "value too large", so
// nothing of 28 hours or more can be written in ms alone); days, hours, minutes, seconds
// and milliseconds each stay small.
export function formatNftTimeout(ms: number): string {
  let rest = Math.min(MAX_NFT_TIMEOUT, Math.max(1, Math.ceil(ms)));
  if (rest < DAY) return `${rest}ms`;
  let text = '';
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', SECOND], ['ms', 1]] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) text += `${count}${unit}`;
  }
  return text;
}
