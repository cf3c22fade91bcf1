import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/engine/decisions.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath, packageRoot } from '../../src/runtime/package-paths.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { config } from '../helpers/engine.js';

// The privilege separation sections of logs-samples/sshd.log, replayed after a knock on a
// close_on_logout door: the grant closes logout_grace after the session's end, however many
// pids wrote its lines and whether pam_unix wrote any.
const times = () => createSyslogTimeParser({ timeZone: 'UTC', reference: Date.parse('2026-12-31T00:00:00Z') });
const sshd = createLineParser(loadFilterFile(builtinFilterPath('sshd')), times());
const netfilter = createLineParser(loadFilterFile(builtinFilterPath('netfilter')), times());
const INI = '[options]\nfirewall = dry-run\nlogout_grace = 10s\n[open]\nsequence = 7000,8000\nseq_timeout = 5\nopen_for = 0\nclose_on_logout = yes\n';
const GRACE = 10_000;

// The sample lines under the section whose title starts with `title`, up to the next title.
function section(title: string): string[] {
  const lines = readFileSync(`${packageRoot()}/logs-samples/sshd.log`, 'utf8').split('\n');
  const start = lines.indexOf(lines.find((line) => line.startsWith(`# --- ${title}`)) ?? '');
  expect(start).toBeGreaterThan(-1);
  const end = lines.findIndex((line, index) => index > start && line.startsWith('# --- '));
  return lines.slice(start + 1, end).filter((line) => line !== '' && !line.startsWith('#'));
}

function knockLine(at: number, src: string, port: number): string {
  return `${new Date(at).toISOString().replace('Z', '000+00:00')} gate kernel: KNOCK IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=${port + 33000} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

const shown = (decision: Decision): string => `${decision.type}${decision.type === 'close' ? ` by ${decision.by}` : ''} ${decision.src} ${new Date(decision.time).toISOString()}`;

describe('a close_on_logout grant and a session whose logout lines another pid writes', () => {
  it.each([
    ['a session logged out from the post-auth child, with PAM', '198.51.100.30', ['2026-11-22T11:00:00.100Z'], '2026-11-22T11:05:00.200Z'],
    ['a session logged out from the post-auth child, without PAM', '198.51.100.31', ['2026-11-22T11:10:00.000Z'], '2026-11-22T11:14:30.000Z'],
    ['a session whose client stops answering', '198.51.100.34', ['2026-11-22T11:15:00.000Z'], '2026-11-22T11:17:45.000Z'],
    ['two sessions of one address', '198.51.100.32', ['2026-11-22T11:20:00.000Z', '2026-11-22T11:21:00.000Z'], '2026-11-22T11:40:00.000Z'],
  ])('%s: closes logout_grace after the last session ends', (title, src, logins, logout) => {
    const decisions: Decision[] = [];
    const pipeline = new Pipeline(config(INI), (decision) => decisions.push(decision));
    const first = Date.parse(logins[0] as string);
    pipeline.handleLines([knockLine(first - 2000, src, 7000), knockLine(first - 1000, src, 8000)], netfilter);
    pipeline.handleLines(section(title), sshd);
    const ended = Math.floor(Date.parse(logout));
    pipeline.advanceTo(ended + GRACE - 1);
    const kept = decisions.filter((decision) => decision.type !== 'step' && decision.type !== 'completed').map(shown);
    pipeline.advanceTo(ended + GRACE + 1);
    expect(kept).toEqual([
      `open ${src} ${new Date(first - 1000).toISOString()}`,
      ...logins.map((at) => `login ${src} ${at}`),
      `logout ${src} ${logout}`,
    ]);
    expect(decisions.slice(-1).map(shown)).toEqual([`close by logout ${src} ${new Date(ended + GRACE + 1).toISOString()}`]);
    expect(pipeline.grants()).toEqual([]);
  });
});
