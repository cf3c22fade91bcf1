import { isDottedQuad, normalizeAddress, readCanonicalIPv6 } from '../net/address.js';
import type { BuildResult } from './build-knock.js';
import { SSH_AUTH_KINDS, SSH_CLASSES, type SshAuth, type SshAuthKind, type SshClass } from './events.js';

const CLASSES: ReadonlySet<string> = new Set(SSH_CLASSES);
const KINDS: ReadonlySet<string> = new Set(SSH_AUTH_KINDS);
const MAX_USER = 100;
const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;
// fe80::/10
const LINK_LOCAL = /^fe[89ab][0-9a-f]:/i;
// Scratch for readCanonicalIPv6 (its groups are not used here).
const groups = new Uint16Array(8);

// An sshd rule's kind in filters/sshd.conf is `class/kind` (`failure/invalid-user`).
export function isSshKind(kind: string): boolean {
  const slash = kind.indexOf('/');
  return slash > 0 && CLASSES.has(kind.slice(0, slash)) && KINDS.has(kind.slice(slash + 1));
}

// Turns the named groups of an sshd match into an SshAuth; the address is validated, the
// user name (client-controlled) is kept only as display text, clipped. `kind` passed
// isSshKind.
export function buildSshAuth(kind: string, groups: Record<string, string | undefined>, time: number, pid: number | undefined): BuildResult<SshAuth> {
  const { lineClass, name } = splitKind(kind);
  const built = makeSshAuth(lineClass, name, groups.host ?? groups.host6, groups.port, groups.user, groups.method, groups.invalid, time, pid);
  return typeof built === 'string' ? { ok: false, reason: built } : { ok: true, event: built };
}

// The event, or why the line yields none.
export type SshAuthReader = (match: RegExpExecArray, time: number, pid: number | undefined) => SshAuth | string;

// buildSshAuth for one rule, reading its captures by index (`groupNames`, as in a
// FilterRule): no groups object per line.
export function createSshAuthReader(kind: string, groupNames: readonly (string | undefined)[]): SshAuthReader {
  const { lineClass, name } = splitKind(kind);
  const at = (group: string): number => groupNames.indexOf(group);
  const host = at('host');
  const host6 = at('host6');
  const port = at('port');
  const user = at('user');
  const method = at('method');
  const invalid = at('invalid');
  const read = (match: RegExpExecArray, index: number): string | undefined => (index === -1 ? undefined : match[index]);
  return (match, time, pid) => makeSshAuth(
    lineClass, name, read(match, host) ?? read(match, host6), read(match, port), read(match, user), read(match, method), read(match, invalid), time, pid,
  );
}

// The class and kind as the constants above, not slices of `kind`: access compares them
// with literals for every event, and equal constants compare by identity.
function splitKind(kind: string): { lineClass: SshClass; name: SshAuthKind } {
  const slash = kind.indexOf('/');
  const lineClass = kind.slice(0, slash);
  const name = kind.slice(slash + 1);
  return { lineClass: SSH_CLASSES.find((known) => known === lineClass) as SshClass, name: SSH_AUTH_KINDS.find((known) => known === name) as SshAuthKind };
}

function makeSshAuth(
  lineClass: SshClass, name: SshAuthKind, hostText: string | undefined, portText: string | undefined, user: string | undefined,
  method: string | undefined, invalid: string | undefined, time: number, pid: number | undefined,
): SshAuth | string {
  // The regex takes 1 to 5 digits: sshd never writes 0 or more than 65535.
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65_535)) return `invalid port "${portText}"`;
  let src: string | undefined;
  if (hostText !== undefined) {
    const address = readAddress(hostText);
    if (typeof address !== 'string') return address.reason;
    src = address;
    // A line without a pid is tied to no connection: only a failure that names its address
    // means something on its own.
    if (pid === undefined && lineClass !== 'failure') return `sshd ${name} line without a pid`;
  } else if (pid === undefined) {
    return `sshd ${name} line without an address or a pid`;
  }
  return {
    type: 'ssh', time, class: lineClass, kind: name, src, pid, port,
    user: user?.slice(0, MAX_USER),
    method,
    invalidUser: invalid !== undefined || name === 'invalid-user',
  };
}

// The address sshd wrote, as knockwatch acts on it: brackets dropped, an IPv4-mapped IPv6
// address as its IPv4 address, the scope of a global IPv6 address dropped (the address is
// one host whatever the interface). Refused: a host name (UseDNS; never resolved) and a
// link-local address with a scope (the same fe80:: address is another host on another link,
// and a ban or grant is not per interface).
function readAddress(text: string): string | { reason: string } {
  // The common case, which normalizeAddress would return as it is.
  if (isDottedQuad(text)) return text;
  let address = text;
  if (address.startsWith('[') !== address.endsWith(']')) return { reason: `invalid address "${text.slice(0, 60)}"` };
  if (address.startsWith('[')) address = address.slice(1, -1);
  const percent = address.indexOf('%');
  if (percent !== -1) {
    if (LINK_LOCAL.test(address)) return { reason: `link-local address with a scope "${text.slice(0, 60)}" (not acted on)` };
    address = address.slice(0, percent);
  }
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped !== null) address = mapped[1] as string;
  // An IPv6 address in RFC 5952 form already is what normalizeAddress would return; anything
  // else (an IPv4 tail, a scope, upper case) takes that full path.
  const src = readCanonicalIPv6(address, groups) ? address : normalizeAddress(address);
  if (src !== undefined) return src;
  if (!address.includes(':') && /[a-z]/i.test(address)) return { reason: `host name "${text.slice(0, 60)}" instead of an address (never resolved)` };
  return { reason: `invalid address "${text.slice(0, 60)}"` };
}
