import { TcpFlag } from './events.js';

// The shape of the netfilter LOG lines the scanner and its templates read (a strict subset of
// what filters/netfilter.conf accepts: addresses in the two forms the kernel prints, no
// options, UID or mark), in pieces: the scanner checks a line against all of it, a template
// against its own texts with these pieces for the values that change from packet to packet.
export const ADDRESS6 = String.raw`[0-9a-fA-F]{4}(?::[0-9a-fA-F]{4}){7}`;
export const ADDRESS4 = String.raw`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`;
export const LINK = String.raw`IN=[\w.@-]{0,16} OUT=[\w.@-]{0,16}(?: MAC=[0-9a-f:]{0,200})?`;
// The IP header after LEN=, to the space before PROTO=. TOS, PREC and the fragment flags are
// whatever the sender put in its packet.
export const IP4_FIELDS = String.raw` TOS=0x[0-9A-F]{2} PREC=0x[0-9A-F]{2} TTL=\d{1,3} ID=\d{1,5}(?: (?:CE|DF|MF)){0,3}`;
export const IP6_FIELDS = String.raw` TC=\d{1,3} HOPLIMIT=\d{1,3} FLOWLBL=\d{1,7}`;
// From after ` PROTO=` to the line's end.
export const TRANSPORT = String.raw`(?:TCP SPT=\d{1,5} DPT=\d{1,5} WINDOW=\d{1,5} RES=0x[0-9a-f]{2} (?:(?:CWR|ECE|URG|ACK|PSH|RST|SYN|FIN) ){0,8}URGP=\d{1,5}|UDP SPT=\d{1,5} DPT=\d{1,5} LEN=\d{1,5}) *$`;

const SPACE = 32;

// The flag words from `at` up to URGP= (checked by the shape or a template's regex) as TcpFlag
// bits: their first letters (C, E, U, A, P, R, S, F) differ, and CWR and ECE have no bit.
export function flagBits(line: string, at: number): number {
  let flags = 0;
  for (let p = at; line.charCodeAt(p + 3) === SPACE; p += 4) {
    switch (line.charCodeAt(p)) {
      case 85: flags |= TcpFlag.URG; break;
      case 65: flags |= TcpFlag.ACK; break;
      case 80: flags |= TcpFlag.PSH; break;
      case 82: flags |= TcpFlag.RST; break;
      case 83: flags |= TcpFlag.SYN; break;
      case 70: flags |= TcpFlag.FIN; break;
    }
  }
  return flags;
}
