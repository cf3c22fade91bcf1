import { findProgram } from '../firewall/find-program.js';
import type { Target } from './knock-net.js';

// Bytes an echo request has besides ping's payload: the IP header (20, IPv6 40) and ICMP's 8.
export const ECHO_HEADERS = { 4: 28, 6: 48 } as const;
// ping exits 1 when no reply came (a knock's echo request is dropped), 2 on its own errors.
const PING_ERROR = 2;

// Node has no raw sockets: an `icmp:N` step is one `ping` whose IP packet is N bytes long.
export function pingArgs(target: Target, length: number, local: string | undefined): string[] {
  const source = local === undefined ? [] : ['-I', local];
  return [`-${target.family}`, '-c', '1', '-W', '1', '-s', String(length - ECHO_HEADERS[target.family]), ...source, target.address];
}

export function canPing(): boolean {
  return findProgram('ping') !== undefined;
}

// Sends the echo request; no reply is the usual outcome, only ping's own failure is an error.
export async function sendEcho(target: Target, length: number, local: string | undefined): Promise<void> {
  const { execa } = await import('execa');
  const result = await execa('ping', pingArgs(target, length, local), { reject: false, timeout: 5000 });
  if (result.exitCode === undefined || result.exitCode >= PING_ERROR) {
    throw new Error(`ping for icmp:${length} failed: ${String(result.stderr).trim() || result.shortMessage}`);
  }
}
