import { normalizeAddress } from '../net/address.js';
import type { BuildResult } from './build-knock.js';
import type { SshAuth, SshAuthKind, SshClass } from './events.js';

const CLASSES: ReadonlySet<string> = new Set<SshClass>(['failure', 'login', 'logout', 'noise']);
const KINDS: ReadonlySet<string> = new Set<SshAuthKind>([
  'accepted', 'session-opened', 'session-closed', 'disconnected', 'failed', 'invalid-user', 'not-allowed', 'root-refused',
  'pam-failure', 'max-attempts', 'too-many-failures', 'username-change', 'auth-fail', 'postponed', 'received-disconnect',
  'pam-unix-failure', 'no-identification', 'bad-protocol', 'bad-banner', 'no-matching-algorithm', 'preauth-timeout', 'penalty-drop',
]);
const MAX_USER = 100;
const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;
// fe80::/10
const LINK_LOCAL = /^fe[89ab][0-9a-f]:/i;

// An sshd rule's kind in filters/sshd.conf is `class/kind` (`failure/invalid-user`).
export function isSshKind(kind: string): boolean {
  const slash = kind.indexOf('/');
  return slash > 0 && CLASSES.has(kind.slice(0, slash)) && KINDS.has(kind.slice(slash + 1));
}

// Turns the named groups of an sshd match into an SshAuth; the address is validated, the
// user name (client-controlled) is kept only as display text, clipped. `kind` passed
// isSshKind.
export function buildSshAuth(kind: string, groups: Record<string, string | undefined>, time: number, pid: number | undefined): BuildResult<SshAuth> {
  const slash = kind.indexOf('/');
  const lineClass = kind.slice(0, slash) as SshClass;
  const name = kind.slice(slash + 1) as SshAuthKind;
  const hostText = groups.host ?? groups.host6;
  let src: string | undefined;
  if (hostText !== undefined) {
    const address = readAddress(hostText);
    if (!address.ok) return address;
    src = address.src;
    // A line without a pid is tied to no connection: only a failure that names its address
    // means something on its own.
    if (pid === undefined && lineClass !== 'failure') return { ok: false, reason: `sshd ${name} line without a pid` };
  } else if (pid === undefined) {
    return { ok: false, reason: `sshd ${name} line without an address or a pid` };
  }
  return {
    ok: true,
    event: {
      type: 'ssh', time, class: lineClass, kind: name, src, pid,
      user: groups.user?.slice(0, MAX_USER),
      method: groups.method,
      invalidUser: groups.invalid !== undefined || name === 'invalid-user',
    },
  };
}

// The address sshd wrote, as knockwatch acts on it: brackets dropped, an IPv4-mapped IPv6
// address as its IPv4 address, the scope of a global IPv6 address dropped (the address is
// one host whatever the interface). Refused: a host name (UseDNS; never resolved) and a
// link-local address with a scope (the same fe80:: address is another host on another link,
// and a ban or grant is not per interface).
function readAddress(text: string): { ok: true; src: string } | { ok: false; reason: string } {
  let address = text;
  if (address.startsWith('[') !== address.endsWith(']')) return { ok: false, reason: `invalid address "${text.slice(0, 60)}"` };
  if (address.startsWith('[')) address = address.slice(1, -1);
  const percent = address.indexOf('%');
  if (percent !== -1) {
    if (LINK_LOCAL.test(address)) return { ok: false, reason: `link-local address with a scope "${text.slice(0, 60)}" (not acted on)` };
    address = address.slice(0, percent);
  }
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped !== null) address = mapped[1] as string;
  const src = normalizeAddress(address);
  if (src !== undefined) return { ok: true, src };
  if (!address.includes(':') && /[a-z]/i.test(address)) return { ok: false, reason: `host name "${text.slice(0, 60)}" instead of an address (never resolved)` };
  return { ok: false, reason: `invalid address "${text.slice(0, 60)}"` };
}
