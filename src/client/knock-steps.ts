import type { DoorStep, StepProtocol } from '../config/types.js';
import { parseKnockSteps, parsePort } from '../config/parse-values.js';
import { UsageError } from '../cli/usage-error.js';

// What the knock command cannot do as asked because of its config or the door: exit 2,
// without the pointer to --help a mistyped command line gets.
export class KnockRefusal extends Error {}

// A door as the client knows it from its client config.
export type ClientDoor = StaticClientDoor | RotatingClientDoor;

export interface StaticClientDoor {
  kind: 'static';
  name: string;
  sequence: readonly DoorStep[];
}

// A door whose steps change with the time (`rotate`) or the hour (`derive = md5-hour`),
// described as the daemon's door is, so that both derive the same steps.
export interface RotatingClientDoor {
  kind: 'rotating';
  // The daemon's door name: part of the HMAC derivation.
  name: string;
  // The secret file's bytes exactly as read (the derivation decides about a final newline,
  // so that client and daemon read the file the same way). Never printed.
  secret: Buffer;
  derive: 'hmac' | 'md5-hour';
  // Window length in seconds (hmac); md5-hour windows are UTC hours.
  rotate: number | undefined;
  portRange: { low: number; high: number };
  // Steps per sequence; undefined: the derivation's default.
  length: number | undefined;
  protocols: readonly StepProtocol[];
  // The knocking address is mixed into the derivation.
  bindSource: boolean;
  // Ports of the range the daemon's door skips (its other doors and trap ports, as `check`
  // on the server lists them): the same list gives the same steps.
  exclude: readonly number[];
}

// The one place rotating doors plug into the client: the steps of `door` at `time` (epoch
// ms) from `source` (the address the daemon will see; given only when door.bindSource).
export type SequenceFor = (door: RotatingClientDoor, time: number, source?: string) => readonly DoorStep[];

// knockd's `knock` arguments: `7000 8000:udp 9000:tcp`; `defaultProto` is udp with -u.
export function parseKnockArgs(args: readonly string[], defaultProto: StepProtocol): DoorStep[] {
  return args.map((arg) => {
    if (/^icmp:/i.test(arg)) {
      const parsed = parseKnockSteps(arg);
      if (!parsed.ok) throw new UsageError(`"${arg}": expected ${parsed.expected}`);
      return parsed.value[0] as DoorStep;
    }
    const [portText = '', protoText, extra] = arg.split(':');
    const port = parsePort(portText);
    if (port === undefined) throw new UsageError(`"${arg}": expected PORT[:tcp|udp] with a port from 1 to 65535`);
    const proto = protoText === undefined ? defaultProto : protoText.toLowerCase();
    if (extra !== undefined || (proto !== 'tcp' && proto !== 'udp')) throw new UsageError(`"${arg}": expected tcp or udp after "${port}:"`);
    return { port, proto };
  });
}

// Whether a word after HOST is a port step rather than a door name.
export function looksLikeStep(word: string): boolean {
  return /^(\d|icmp:)/i.test(word);
}
