import { normalizeAddress } from '../net/address.js';
import type { BuildResult } from './build-knock.js';
import type { SshAuth, SshAuthKind } from './events.js';

const KINDS: ReadonlySet<string> = new Set<SshAuthKind>(['accepted', 'failed', 'invalid-user', 'session-opened', 'session-closed', 'disconnected']);
const MAX_USER = 100;

export function isSshKind(kind: string): kind is SshAuthKind {
  return KINDS.has(kind);
}

// Turns the named groups of an sshd match into an SshAuth; the address is validated, the
// user name (client-controlled) is kept only as display text, clipped.
export function buildSshAuth(kind: SshAuthKind, groups: Record<string, string | undefined>, time: number, pid: number | undefined): BuildResult<SshAuth> {
  if (pid === undefined) return { ok: false, reason: 'sshd line without a pid' };
  const hostText = groups.host ?? groups.host6;
  let src: string | undefined;
  if (hostText !== undefined) {
    src = normalizeAddress(hostText);
    if (src === undefined) return { ok: false, reason: `invalid address "${hostText.slice(0, 60)}"` };
  } else if (kind !== 'session-opened' && kind !== 'session-closed') {
    return { ok: false, reason: `no address in an sshd ${kind} line` };
  }
  return {
    ok: true,
    event: {
      type: 'ssh', time, kind, src, pid,
      user: groups.user?.slice(0, MAX_USER),
      method: groups.method,
      invalidUser: groups.invalid !== undefined || kind === 'invalid-user',
    },
  };
}
