import type { KnockdAction } from './knockd-action.js';
import { parsePort } from './parse-values.js';
import type { StepProtocol } from './types.js';

const OP: Record<string, 'add' | 'delete'> = { '-A': 'add', '--append': 'add', '-I': 'add', '--insert': 'add', '-D': 'delete', '--delete': 'delete' };
const VALUE_OPTIONS: Record<string, string> = {
  '-s': 'source', '--source': 'source', '--src': 'source',
  '-p': 'proto', '--protocol': 'proto',
  '-m': 'match', '--match': 'match',
  '--dport': 'dport', '--destination-port': 'dport',
  '-j': 'jump', '--jump': 'jump',
  '-t': 'table', '--table': 'table',
};

// `iptables [-w [N]] -A|-I INPUT [N] -s %IP% -p tcp|udp [-m tcp|udp] --dport N -j ACCEPT`, in any
// option order; -D deletes. Any other word makes the rule one knockwatch does not understand.
export function readIptablesCommand(args: readonly string[]): KnockdAction | undefined {
  const seen = new Map<string, string>();
  let op: 'add' | 'delete' | undefined;
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (word === '-w' || word === '--wait') {
      if (/^\d+$/.test(args[i + 1] ?? '')) i++;
      continue;
    }
    if (/^(-w\d+|--wait=\d+)$/.test(word)) continue;
    const opFound = OP[word];
    if (opFound !== undefined) {
      if (op !== undefined || args[i + 1] !== 'INPUT') return undefined;
      op = opFound;
      i++;
      if ((word === '-I' || word === '--insert') && /^\d+$/.test(args[i + 1] ?? '')) i++;
      continue;
    }
    const option = VALUE_OPTIONS[word];
    const value = args[i + 1];
    if (option === undefined || value === undefined || seen.has(option)) return undefined;
    seen.set(option, value);
    i++;
  }
  const proto = seen.get('proto');
  const port = parsePort(seen.get('dport') ?? '');
  const match = seen.get('match');
  const table = seen.get('table');
  if (op === undefined || seen.get('source') !== '%IP%' || seen.get('jump') !== 'ACCEPT' || port === undefined) return undefined;
  if ((proto !== 'tcp' && proto !== 'udp') || (match !== undefined && match !== proto) || (table !== undefined && table !== 'filter')) return undefined;
  return { op, target: 'ports', ports: [{ port, proto: proto as StepProtocol }] };
}
