import { normalizeAddress } from '../net/address.js';
import { TcpFlag, type Knock, type Protocol } from './events.js';

export type BuildResult<T> = { ok: true; event: T } | { ok: false; reason: string };

const FLAG_BITS: Record<string, number> = {
  FIN: TcpFlag.FIN, SYN: TcpFlag.SYN, RST: TcpFlag.RST, PSH: TcpFlag.PSH, ACK: TcpFlag.ACK, URG: TcpFlag.URG,
};

// Turns the named groups of a netfilter match into a Knock, validating every field a
// packet's sender controls (addresses, ports) instead of trusting the regex alone.
let lastDstText = '';
let lastDst: string | undefined;
const flagCache = new Map<string, number>();

export function buildKnock(groups: Record<string, string | undefined>, time: number): BuildResult<Knock> {
  const src = normalizeAddress(groups.src ?? '');
  if (src === undefined) return { ok: false, reason: `invalid source address "${clip(groups.src)}"` };
  // The destination is one of the host's own few addresses: remember the last one.
  const dstText = groups.dst ?? '';
  if (dstText !== lastDstText) {
    lastDstText = dstText;
    lastDst = normalizeAddress(dstText);
  }
  const dst = lastDst;
  if (dst === undefined) return { ok: false, reason: `invalid destination address "${clip(groups.dst)}"` };
  if (src.includes(':') !== dst.includes(':')) return { ok: false, reason: 'source and destination families differ' };
  const protoText = groups.proto ?? '';
  const proto: Protocol = protoText === 'TCP' ? 'tcp' : protoText.startsWith('UDP') ? 'udp' : 'icmp';
  let dport = 0;
  let spt = 0;
  let flags = 0;
  if (proto !== 'icmp') {
    dport = Number(groups.dpt);
    spt = Number(groups.spt);
    if (groups.dpt === undefined || !(dport <= 65535) || !(spt <= 65535)) {
      return { ok: false, reason: `invalid port (SPT=${clip(groups.spt)} DPT=${clip(groups.dpt)})` };
    }
  }
  if ((proto === 'tcp') !== (groups.flags !== undefined)) return { ok: false, reason: `fields do not fit PROTO=${protoText}` };
  if (proto === 'tcp') flags = parseFlagWords(groups.flags ?? '');
  const event: Knock = { type: 'knock', time, prefix: (groups.prefix ?? '').trim(), src, dst, proto, dport, spt, flags, iface: groups.in ?? '' };
  if (proto === 'icmp') {
    const icmpType = Number(groups.type);
    const len = Number(groups.len);
    if (groups.type === undefined || groups.len === undefined || !(icmpType <= 255) || !(len <= 65535)) {
      return { ok: false, reason: `invalid ICMP fields (TYPE=${clip(groups.type)} LEN=${clip(groups.len)})` };
    }
    event.icmpType = icmpType;
    event.len = len;
  }
  return { ok: true, event };
}

function parseFlagWords(text: string): number {
  let flags = flagCache.get(text);
  if (flags === undefined) {
    flags = 0;
    for (const word of text.split(' ')) flags |= FLAG_BITS[word] ?? 0;
    if (flagCache.size < 256) flagCache.set(text, flags);
  }
  return flags;
}

function clip(text: string | undefined): string {
  return (text ?? '').slice(0, 60);
}
