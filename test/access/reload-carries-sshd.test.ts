import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import type { SshAuth, SshAuthKind, SshClass } from '../../src/filters/events.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { toSavedGrant } from '../../src/runtime/state-file.js';
import { config, knock } from '../helpers/engine.js';

const A = '203.0.113.7';

// maxretry 3 in 60 s, bantime 100 s doubling; the door lasts until closed, and a logout closes it.
const INI = `[options]
firewall = dry-run
maxretry = 3
findtime = 60
bantime = 100
bantime_max = 1000
[open]
sequence = 7000,8000
seq_timeout = 5
open_for = 0
close_on_logout = yes
`;

const CLASS_OF: Partial<Record<SshAuthKind, SshClass>> = { 'accepted': 'login', 'session-closed': 'logout', 'disconnected': 'logout', 'received-disconnect': 'noise' };

function ssh(at: number, kind: SshAuthKind, pid: number, src?: string): SshAuth {
  return { type: 'ssh', time: at * 1000, class: CLASS_OF[kind] ?? 'failure', kind, pid, src, user: 'u', method: undefined, invalidUser: false };
}

// A pipeline, and what reload.ts does: a new pipeline for `ini` takes over the old one's
// grants, bans and the rest, at `at` seconds.
function harness(ini = INI): { decisions: string[]; send: (event: SshAuth | ReturnType<typeof knock>) => void; reload: (at: number, next?: string) => void } {
  const decisions: string[] = [];
  const sink = (d: Decision): void => {
    if (d.type === 'banned') decisions.push(`banned ${d.src} ${(d.until - d.time) / 1000}s`);
    else if (d.type === 'close') decisions.push(`close ${d.src} ${d.door} by ${d.by}`);
    else if (d.type === 'failure') decisions.push(`failure ${d.src} ${d.count}`);
    else if (d.type === 'open' || d.type === 'unbanned') decisions.push(`${d.type} ${d.src}`);
  };
  let pipeline = new Pipeline(config(ini), sink);
  return {
    decisions,
    send: (event) => pipeline.handleEvent(event),
    reload: (at, next = ini) => {
      const fresh = new Pipeline(config(next), sink);
      fresh.restore(pipeline.grants().map(toSavedGrant), pipeline.bans(), at * 1000);
      fresh.carryOver(pipeline);
      pipeline = fresh;
    },
  };
}

describe('a reload', () => {
  // The admin who reloads is often logged in over ssh right then.
  it('keeps the sessions logged in: the last logout after it still closes the grant', () => {
    const h = harness();
    h.send(knock({ src: A, port: '7000', at: 1 }));
    h.send(knock({ src: A, port: '8000', at: 2 }));
    h.send(ssh(3, 'accepted', 501, A));
    h.reload(5);
    h.send(ssh(9, 'session-closed', 501));
    expect(h.decisions).toEqual([`open ${A}`, `close ${A} open by logout`]);
  });

  it('keeps a logout waiting for logout_grace', () => {
    const h = harness(INI.replace('[open]', 'logout_grace = 10\n[open]'));
    h.send(knock({ src: A, port: '7000', at: 1 }));
    h.send(knock({ src: A, port: '8000', at: 2 }));
    h.send(ssh(3, 'accepted', 501, A));
    h.send(ssh(4, 'session-closed', 501));
    h.reload(5);
    h.send(ssh(20, 'received-disconnect', 777, '198.51.100.1'));
    expect(h.decisions).toEqual([`open ${A}`, `close ${A} open by logout`]);
  });

  it('keeps the failures counted toward a ban', () => {
    const h = harness();
    h.send(ssh(1, 'failed', 601, A));
    h.send(ssh(2, 'failed', 602, A));
    h.reload(3);
    h.send(ssh(4, 'failed', 603, A));
    expect(h.decisions).toEqual([`failure ${A} 1`, `failure ${A} 2`, `failure ${A} 3`, `banned ${A} 100s`]);
  });

  it('keeps an address\'s count of bans: its next ban after an ended one still doubles', () => {
    const h = harness();
    for (const at of [1, 2, 3]) h.send(ssh(at, 'failed', 600 + at, A));
    // the ban ends at 103 s
    h.send(ssh(110, 'received-disconnect', 777, '198.51.100.1'));
    h.reload(111);
    for (const at of [120, 121, 122]) h.send(ssh(at, 'failed', 600 + at, A));
    expect(h.decisions.filter((d) => d.startsWith('banned'))).toEqual([`banned ${A} 100s`, `banned ${A} 200s`]);
  });

  it('never bans for failures counted before it an address its new whitelist holds', () => {
    const h = harness();
    h.send(ssh(1, 'failed', 601, A));
    h.send(ssh(2, 'failed', 602, A));
    h.reload(3, INI.replace('[options]\n', '[options]\nwhitelist = 203.0.113.0/24\n'));
    h.send(ssh(4, 'failed', 603, A));
    expect(h.decisions).toEqual([`failure ${A} 1`, `failure ${A} 2`]);
  });
});
