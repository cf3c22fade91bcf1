import { createHash } from 'node:crypto';
import type { Filter } from './load-filter.js';

// The fingerprint of the filters/netfilter.conf the netfilter scanner was checked against
// (test/filters/netfilter-scanner.test.ts). A change to that file changes it: the scanner
// then stays off until the test has been run against the new regexes and this is updated.
export const NETFILTER_FINGERPRINT = '578ae1f381ef';

// What decides how a filter reads a line: its tags, pid rule, `contains`, and every regex
// with its kind and group names. The file's name and comments do not count.
export function filterFingerprint(filter: Filter): string {
  const definition = JSON.stringify({
    tags: [...filter.tags].sort(),
    pid: filter.pid,
    contains: filter.contains ?? null,
    rules: filter.rules.map((rule) => [rule.kind, rule.regex.source, rule.regex.flags, rule.groupNames, rule.prefix]),
    ignore: filter.ignore.map((regex) => [regex.source, regex.flags]),
  });
  return createHash('sha256').update(definition).digest('hex').slice(0, 12);
}
