import { basename } from 'node:path';
import { readIptablesCommand } from './iptables-idiom.js';
import { readKnockHelperCommand } from './knock-helper-idiom.js';
import { readNftCommand } from './nft-idiom.js';
import { readUfwCommand } from './ufw-idiom.js';
import type { KnockdAction } from './knockd-action.js';

export const UNDERSTOOD_FORMS =
  'iptables -A|-I|-D INPUT -s %IP% -p tcp --dport N -j ACCEPT, ufw [delete] allow from %IP% to any port N, ' +
  'nft add|delete element FAMILY TABLE SET { %IP% }, knock_add -i|-a|-x -c INPUT -p tcp -d N -f %IP%';

// argv as split by splitCommand, before %IP% is substituted; undefined when not understood.
export function readKnockdCommand(argv: readonly string[]): KnockdAction | undefined {
  const [program, ...args] = argv;
  if (program === undefined) return undefined;
  const name = basename(program);
  if (/^ip6?tables(-legacy|-nft)?$/.test(name)) return readIptablesCommand(args);
  if (name === 'ufw') return readUfwCommand(args);
  if (name === 'nft') return readNftCommand(args);
  if (name === 'knock_add' || name === 'knock_helper_ipt.sh') return readKnockHelperCommand(args);
  return undefined;
}

// The same ports or the same set: a delete of this undoes an add of that.
export function actionTargetKey(action: KnockdAction): string {
  if (action.target === 'set') return `set ${action.set}`;
  return `ports ${action.ports.map((step) => `${step.port}/${step.proto}`).sort().join(',')}`;
}
