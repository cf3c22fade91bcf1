// TCP flag bits as in the TCP header, named as the kernel prints them.
export const TcpFlag = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32 } as const;
export type TcpFlagName = keyof typeof TcpFlag;

// The bit of a flag name in any case (`syn`, `ACK`), or undefined for an unknown name.
export function tcpFlagBit(name: string): number | undefined {
  const upper = name.toUpperCase();
  return Object.hasOwn(TcpFlag, upper) ? TcpFlag[upper as TcpFlagName] : undefined;
}

export function formatFlags(flags: number): string {
  return (Object.keys(TcpFlag) as TcpFlagName[]).filter((name) => (flags & TcpFlag[name]) !== 0).join(',');
}
