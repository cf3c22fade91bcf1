import { FIREWALL_KINDS, isFirewallKind, type FirewallKind } from '../config/types.js';
import { UsageError } from './usage-error.js';

// Every option of every command, for node:util parseArgs.
export const OPTIONS = {
  config: { type: 'string', short: 'c' },
  verbose: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  timezone: { type: 'string' },
  filter: { type: 'string' },
  log: { type: 'string', short: 'l' },
  'auth-log': { type: 'string', multiple: true },
  firewall: { type: 'string' },
  'state-file': { type: 'string' },
  record: { type: 'string' },
  force: { type: 'boolean' },
  timeout: { type: 'string' },
  'control-socket': { type: 'string' },
  // knock (-d, -u, -4, -6 and -v are knockd's knock flags)
  delay: { type: 'string' },
  'delay-ms': { type: 'string', short: 'd' },
  udp: { type: 'boolean', short: 'u' },
  ipv4: { type: 'boolean', short: '4' },
  ipv6: { type: 'boolean', short: '6' },
  source: { type: 'string' },
  connect: { type: 'string' },
  wait: { type: 'string' },
  'show-secrets': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

// The options as the commands read them, --firewall already checked.
export type CliValues = {
  config?: string | undefined;
  verbose?: boolean | undefined;
  json?: boolean | undefined;
  timezone?: string | undefined;
  filter?: string | undefined;
  log?: string | undefined;
  'auth-log'?: string[] | undefined;
  firewall?: FirewallKind | undefined;
  'state-file'?: string | undefined;
  record?: string | undefined;
  force?: boolean | undefined;
  timeout?: string | undefined;
  'control-socket'?: string | undefined;
  delay?: string | undefined;
  'delay-ms'?: string | undefined;
  udp?: boolean | undefined;
  ipv4?: boolean | undefined;
  ipv6?: boolean | undefined;
  source?: string | undefined;
  connect?: string | undefined;
  wait?: string | undefined;
  'show-secrets'?: boolean | undefined;
};

export function toCliValues(parsed: Omit<CliValues, 'firewall'> & { firewall?: string | undefined }): CliValues {
  return { ...parsed, firewall: parseFirewallOption(parsed.firewall) };
}

function parseFirewallOption(text: string | undefined): FirewallKind | undefined {
  if (text === undefined || isFirewallKind(text)) return text;
  throw new UsageError(`--firewall: expected ${FIREWALL_KINDS.join(' | ')}, found "${text}"`);
}
