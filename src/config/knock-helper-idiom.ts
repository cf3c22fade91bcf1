import type { KnockdAction } from './knockd-action.js';
import { parsePort } from './parse-values.js';

const FLAGS: Record<string, 'add' | 'delete' | 'verbose'> = {
  '-i': 'add', '--insert': 'add', '-a': 'add', '--append': 'add', '-x': 'delete', '--delete': 'delete', '-v': 'verbose', '--verbose': 'verbose',
};
const VALUES: Record<string, string> = {
  '-c': 'chain', '--chain': 'chain', '-p': 'proto', '--proto': 'proto', '-d': 'dport', '--dstport': 'dport',
  '-f': 'source', '--srcaddr': 'source', '-t': 'target', '--target': 'target', '-m': 'comment', '--comment': 'comment',
};

// knockd's helper script (knock_add, knock_helper_ipt.sh): `-i|-a|-x -c INPUT -p tcp -d N -f %IP%`;
// the chain defaults to INPUT, the protocol to tcp, the target to ACCEPT.
export function readKnockHelperCommand(args: readonly string[]): KnockdAction | undefined {
  let op: 'add' | 'delete' | undefined;
  const seen = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    const flag = FLAGS[word];
    if (flag === 'verbose') continue;
    if (flag !== undefined) {
      if (op !== undefined) return undefined;
      op = flag;
      continue;
    }
    const option = VALUES[word];
    const value = args[i + 1];
    if (option === undefined || value === undefined || seen.has(option)) return undefined;
    seen.set(option, value);
    i++;
  }
  const proto = seen.get('proto') ?? 'tcp';
  const port = parsePort(seen.get('dport') ?? '');
  if (op === undefined || port === undefined || seen.get('source') !== '%IP%') return undefined;
  if ((seen.get('chain') ?? 'INPUT') !== 'INPUT' || (seen.get('target') ?? 'ACCEPT') !== 'ACCEPT') return undefined;
  if (proto !== 'tcp' && proto !== 'udp') return undefined;
  return { op, target: 'ports', ports: [{ port, proto }] };
}
