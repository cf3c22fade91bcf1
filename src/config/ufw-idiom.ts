import type { KnockdAction } from './knockd-action.js';
import { parsePort } from './parse-values.js';
import type { DoorStep } from './types.js';

// `ufw [delete] allow [proto P] from %IP% to any port N [proto P]`; without a proto ufw allows
// both tcp and udp.
export function readUfwCommand(args: readonly string[]): KnockdAction | undefined {
  const words = [...args];
  const op = words[0] === 'delete' ? 'delete' : 'add';
  if (op === 'delete') words.shift();
  if (words.shift() !== 'allow') return undefined;
  let proto: string | undefined;
  const takeProto = (): boolean => {
    if (words[0] !== 'proto') return true;
    if (proto !== undefined) return false;
    proto = words[1];
    words.splice(0, 2);
    return proto === 'tcp' || proto === 'udp';
  };
  if (!takeProto()) return undefined;
  const [from, source, to, any, portWord, portText] = words.splice(0, 6);
  if (from !== 'from' || source !== '%IP%' || to !== 'to' || any !== 'any' || portWord !== 'port') return undefined;
  const port = parsePort(portText ?? '');
  if (port === undefined || !takeProto() || words.length > 0) return undefined;
  const protos: DoorStep['proto'][] = proto === 'tcp' || proto === 'udp' ? [proto] : ['tcp', 'udp'];
  return { op, target: 'ports', ports: protos.map((p) => ({ port, proto: p })) };
}
