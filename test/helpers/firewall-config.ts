import type { Grant } from '../../src/access/grant-table.js';
import { config } from './engine.js';

// A config with two opening doors, a closing door, a trap port and a whitelist of both families.
export const FIREWALL_CONFIG = config(`[options]
whitelist = 192.0.2.10, 2001:db8:1::/48
log_prefix = KNOCK
trap_ports = 7500
[openSSH]
sequence = 7000,8000,9000:udp
open = 22/tcp
[closeSSH]
sequence = 9000:udp,8000,7000
closes = openSSH
[web]
sequence = 6000,6001
open = 443/tcp, 8443/tcp
`);

export function grantOf(src: string, door = 'openSSH', expires = 31_000): Grant {
  const ports = door === 'web' ? [{ port: 443, proto: 'tcp' as const }, { port: 8443, proto: 'tcp' as const }] : [{ port: 22, proto: 'tcp' as const }];
  return { src, door, ports, opened: 1000, expires };
}
