import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SAVED_OFFENSES } from '../../src/access/ban-store.js';
import { MAX_CONNECTIONS } from '../../src/access/ssh-sessions.js';
import { emptyState, loadState, saveState } from '../../src/runtime/state-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-state-'));
  dirs.push(dir);
  return dir;
}

describe('state file', () => {
  it('is replaced by a rename, never rewritten in place, and leaves no temporary file', () => {
    const path = join(tempDir(), 'state.json');
    saveState(path, emptyState());
    const before = statSync(path).ino;
    saveState(path, { ...emptyState(), grants: [{ src: '203.0.113.7', door: 'open', opened: 1, expires: null }] });
    // A new inode: a reader (or a crash) only ever sees the whole old or the whole new file.
    expect(statSync(path).ino).not.toBe(before);
    expect(readdirSync(join(path, '..'))).toEqual(['state.json']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadState(path).state.grants).toEqual([{ src: '203.0.113.7', door: 'open', opened: 1, expires: null }]);
  });

  it.each([
    ['damaged JSON', '{"version": 1, "grants": [', 'damaged JSON'],
    ['another format', '{"version": 2}', 'not a knockwatch state file'],
  ])('starts empty from %s and says why', (_name, text, problem) => {
    const path = join(tempDir(), 'state.json');
    writeFileSync(path, text);
    const loaded = loadState(path);
    expect(loaded.state).toEqual(emptyState());
    expect(loaded.problem).toContain(problem);
  });

  it('drops saved grants and bans whose address is not a valid one', () => {
    const path = join(tempDir(), 'state.json');
    writeFileSync(path, JSON.stringify({
      version: 1,
      grants: [{ src: '203.0.113.7', door: 'open', opened: 1, expires: 5 }, { src: '1.2.3.4; rm -rf /', door: 'open', opened: 1, expires: 5 }],
      bans: [{ src: '2001:db8::9', until: 9, offenses: 1 }, { src: '999.1.1.1', until: 9, offenses: 1 }],
    }));
    const { state } = loadState(path);
    expect(state.grants.map((grant) => grant.src)).toEqual(['203.0.113.7']);
    expect(state.bans.map((ban) => ban.src)).toEqual(['2001:db8::9']);
  });

  it('is empty when there is none yet', () => {
    expect(loadState(join(tempDir(), 'missing.json'))).toEqual({ state: emptyState(), warnings: [] });
  });
});

const T0 = Date.parse('2026-11-22T09:00:00Z');
const KERN = '/var/log/kern.log';
const HASH = '0123456789abcdef0123456789abcdef';

// A state file with one good entry of every kind, and a second grant and ban that the rows
// below spoil; the first entries must survive every row.
function goodFile(): Record<string, any> {
  return {
    version: 1,
    grants: [
      { src: '203.0.113.7', door: 'open', opened: T0, expires: T0 + 30_000, started: true, stop: '/usr/sbin/iptables -D INPUT -s %IP% -j ACCEPT' },
      { src: '203.0.113.8', door: 'open', opened: T0, expires: null },
    ],
    pendingCloses: [{ src: '203.0.113.9', door: 'open', opened: T0, expires: T0 + 30_000, started: true, stop: '/usr/sbin/iptables -D INPUT -s %IP% -j ACCEPT' }],
    bans: [{ src: '198.51.100.9', until: T0 + 600_000, offenses: 1 }, { src: '2001:db8::9', until: T0 + 600_000, offenses: 3 }],
    // counts of bans of addresses not banned now, the latest banned last
    offenses: [{ src: '198.51.100.10', offenses: 2 }, { src: '2001:db8::10', offenses: 1 }],
    oneTimeUsed: { otp: 2, other: 0 },
    usedWindows: { rotating: [{ src: '203.0.113.7', window: 1_699_999_200, until: T0 + 3_600_000 }, { src: '2001:db8::7', window: 1_699_999_200, until: T0 + 3_600_000 }] },
    latestWindows: { rotating: 1_699_999_200, other: 1_700_000_000 },
    // sshd connections logged in: pid, address, client port (none when the line named none), when
    sessions: [{ pid: 2211, src: '203.0.113.7', port: 51234, since: T0 }, { pid: 2400, src: '2001:db8:5::7', since: T0 + 1000 }],
    // addresses whose last session ended, in logout_grace: address, when it ended
    logouts: [{ src: '203.0.113.20', ended: T0 + 2000 }, { src: '2001:db8:5::20', ended: T0 + 3000 }],
    logs: { [KERN]: { dev: 2049, ino: 131, offset: 4096, firstLineHash: HASH }, '/var/log/auth.log': { dev: 2049, ino: 132, offset: 0, firstLineHash: '' } },
  };
}

function loadText(text: string): ReturnType<typeof loadState> {
  const path = join(tempDir(), 'state.json');
  writeFileSync(path, text);
  return loadState(path);
}

describe('state file validation', () => {
  it('keeps every field of a good file, and loads a file written before pendingCloses', () => {
    expect(loadText(JSON.stringify(goodFile()))).toEqual({ state: goodFile(), warnings: [] });
    const old = goodFile();
    delete old.pendingCloses;
    expect(loadText(JSON.stringify(old))).toEqual({ state: { ...goodFile(), pendingCloses: [] }, warnings: [] });
  });

  it('loads a file written before usedWindows (once_per_window) with none used', () => {
    const old = goodFile();
    delete old.usedWindows;
    expect(loadText(JSON.stringify(old))).toEqual({ state: { ...goodFile(), usedWindows: {} }, warnings: [] });
  });

  it('loads a file written before latestWindows with none, and drops a window that is no whole second', () => {
    const old = goodFile();
    delete old.latestWindows;
    expect(loadText(JSON.stringify(old))).toEqual({ state: { ...goodFile(), latestWindows: {} }, warnings: [] });
    const bad = goodFile();
    bad.latestWindows.other = 1.5;
    expect(loadText(JSON.stringify(bad))).toEqual({ state: { ...goodFile(), latestWindows: { rotating: 1_699_999_200 } },
      warnings: ['latestWindows["other"]: expected a window start (whole epoch seconds), found 1.5; dropped'] });
  });

  // Lists added to the file later: an older file has none of them.
  it.each([
    ['sessions', 'none logged in'],
    ['offenses', 'no counts of bans'],
    ['logouts', 'none waiting for logout_grace'],
  ])('loads a file written before %s with %s', (list) => {
    const old = goodFile();
    delete old[list];
    expect(loadText(JSON.stringify(old))).toEqual({ state: { ...goodFile(), [list]: [] }, warnings: [] });
  });

  // No more entries than knockwatch writes (BanStore, SshSessions): the last ones are kept.
  it.each([
    ['offenses', MAX_SAVED_OFFENSES, (i: number) => ({ src: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, offenses: 1 })],
    ['logouts', MAX_CONNECTIONS, (i: number) => ({ src: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, ended: T0 + i })],
  ])('keeps at most the cap of %s (%i), the newest', (list, cap, entry) => {
    const file = goodFile();
    file[list] = Array.from({ length: cap + 1 }, (_, i) => entry(i));
    const loaded = loadText(JSON.stringify(file));
    expect(loaded.warnings).toEqual([`${list}: ${cap + 1} entries, at most ${cap} kept (the newest); 1 dropped`]);
    const kept = loaded.state[list as 'offenses' | 'logouts'] ?? [];
    expect(kept.length).toBe(cap);
    expect(kept[0]).toEqual(entry(1));
  });

  // Past the cap SshSessions forgets its oldest connection: a file holds no more than it keeps.
  it('keeps at most MAX_CONNECTIONS sessions, the newest', () => {
    const file = goodFile();
    file.sessions = Array.from({ length: MAX_CONNECTIONS + 2 }, (_, i) => ({ pid: i + 1, src: '203.0.113.7', port: (i % 65_535) + 1, since: T0 + i }));
    const loaded = loadText(JSON.stringify(file));
    expect(loaded.warnings).toEqual([`sessions: ${MAX_CONNECTIONS + 2} entries, at most ${MAX_CONNECTIONS} kept (the newest); 2 dropped`]);
    expect(loaded.state.sessions?.length).toBe(MAX_CONNECTIONS);
    expect(loaded.state.sessions?.[0]).toEqual({ pid: 3, src: '203.0.113.7', port: 3, since: T0 + 2 });
  });

  // A used window whose entry is spoiled is dropped, the rest of the door's kept.
  it.each([
    ['an address not in canonical form', (f: any) => { f.usedWindows.rotating[1].src = '2001:DB8::7'; }, 'usedWindows[1]: src: expected an address in canonical form, found "2001:DB8::7"; dropped'],
    ['a window that is no whole second', (f: any) => { f.usedWindows.rotating[1].window = 1.5; }, 'usedWindows[1] (2001:db8::7): window: expected a window start (whole epoch seconds), found 1.5; dropped'],
    ['no end', (f: any) => { delete f.usedWindows.rotating[1].until; }, 'usedWindows[1] (2001:db8::7): until: expected a time (ms since 1970, 0 to 8.64e15), found nothing; dropped'],
    ['the same window twice', (f: any) => { f.usedWindows.rotating[1].src = '203.0.113.7'; }, 'usedWindows[1] (203.0.113.7): a second entry for the same address and window; dropped'],
  ])('drops a used window with %s', (_what, spoil, warning) => {
    const file = goodFile();
    spoil(file);
    const loaded = loadText(JSON.stringify(file));
    expect(loaded.warnings).toEqual([warning]);
    expect(loaded.state.usedWindows).toEqual({ rotating: [goodFile().usedWindows.rotating[0]] });
  });

  it('drops a door\'s used windows that are no list', () => {
    const file = goodFile();
    file.usedWindows.rotating = 5;
    const loaded = loadText(JSON.stringify(file));
    expect(loaded.warnings).toEqual(['usedWindows["rotating"]: expected a list, found 5; dropped']);
    expect(loaded.state.usedWindows).toEqual({});
  });

  it.each([
    // Log positions: offsets, file identity, first-line hash.
    ['a negative offset', (f: any) => { f.logs[KERN].offset = -5; }, 'logs', `logs["${KERN}"]: offset: expected a byte offset (a whole number, 0 or more), found -5; dropped`],
    ['a fractional offset', (f: any) => { f.logs[KERN].offset = 1.5; }, 'logs', `logs["${KERN}"]: offset: expected a byte offset (a whole number, 0 or more), found 1.5; dropped`],
    ['a huge offset', (f: any) => { f.logs[KERN].offset = 1e300; }, 'logs', `logs["${KERN}"]: offset: expected a byte offset (a whole number, 0 or more), found 1e+300; dropped`],
    ['an offset in a string', (f: any) => { f.logs[KERN].offset = 'NaN'; }, 'logs', `logs["${KERN}"]: offset: expected a byte offset (a whole number, 0 or more), found "NaN"; dropped`],
    ['a negative inode', (f: any) => { f.logs[KERN].ino = -1; }, 'logs', `logs["${KERN}"]: ino: expected a device or inode number (a whole number, 0 to 2^64), found -1; dropped`],
    ['a fractional device', (f: any) => { f.logs[KERN].dev = 0.5; }, 'logs', `logs["${KERN}"]: dev: expected a device or inode number (a whole number, 0 to 2^64), found 0.5; dropped`],
    ['no device', (f: any) => { delete f.logs[KERN].dev; }, 'logs', `logs["${KERN}"]: dev: expected a device or inode number (a whole number, 0 to 2^64), found nothing; dropped`],
    ['a hash that is not hex', (f: any) => { f.logs[KERN].firstLineHash = 'z'.repeat(32); }, 'logs', `logs["${KERN}"]: firstLineHash: expected a first-line hash (32 hex digits, or empty), found "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"; dropped`],
    ['a short hash', (f: any) => { f.logs[KERN].firstLineHash = 'abc'; }, 'logs', `logs["${KERN}"]: firstLineHash: expected a first-line hash (32 hex digits, or empty), found "abc"; dropped`],
    ['a position that is a number', (f: any) => { f.logs[KERN] = 7; }, 'logs', `logs["${KERN}"]: expected a log position, found 7; dropped`],
    // Grant times: finite, and within what a Date can hold.
    ['an absurd expiry', (f: any) => { f.grants[1].expires = 1e300; }, 'grants', 'grants[1] (203.0.113.8): expires: expected a time (ms since 1970, 0 to 8.64e15) or null, found 1e+300; dropped'],
    ['an expiry in a string', (f: any) => { f.grants[1].expires = 'Infinity'; }, 'grants', 'grants[1] (203.0.113.8): expires: expected a time (ms since 1970, 0 to 8.64e15) or null, found "Infinity"; dropped'],
    ['a negative opening time', (f: any) => { f.grants[1].opened = -1; }, 'grants', 'grants[1] (203.0.113.8): opened: expected a time (ms since 1970, 0 to 8.64e15), found -1; dropped'],
    ['an opening time of null', (f: any) => { f.grants[1].opened = null; }, 'grants', 'grants[1] (203.0.113.8): opened: expected a time (ms since 1970, 0 to 8.64e15), found null; dropped'],
    ['an absurd opening time', (f: any) => { f.grants[1].opened = 1e300; }, 'grants', 'grants[1] (203.0.113.8): opened: expected a time (ms since 1970, 0 to 8.64e15), found 1e+300; dropped'],
    // Grant addresses, doors, the started mark, duplicates.
    ['an address not in canonical form', (f: any) => { f.grants[1].src = '2001:DB8:0::1'; }, 'grants', 'grants[1]: src: expected an address in canonical form, found "2001:DB8:0::1"; dropped'],
    ['an address with a command in it', (f: any) => { f.grants[1].src = '1.2.3.4; rm -rf /'; }, 'grants', 'grants[1]: src: expected an address in canonical form, found "1.2.3.4; rm -rf /"; dropped'],
    ['an empty door name', (f: any) => { f.grants[1].door = ''; }, 'grants', 'grants[1] (203.0.113.8): door: expected a door name, found ""; dropped'],
    ['a started mark that is no boolean', (f: any) => { f.grants[1].started = 'yes'; }, 'grants', 'grants[1] (203.0.113.8): started: expected true, false or nothing, found "yes"; dropped'],
    ['a second grant of the same door', (f: any) => { f.grants[1] = { ...f.grants[0], expires: T0 + 1 }; }, 'grants', 'grants[1] (203.0.113.7): a second entry for the same address and door; dropped'],
    ['a grant that is no object', (f: any) => { f.grants[1] = '203.0.113.8'; }, 'grants', 'grants[1]: expected an object, found "203.0.113.8"; dropped'],
    // Pending closes are grants too.
    ['a pending close with an absurd expiry', (f: any) => { f.pendingCloses.push({ src: '203.0.113.10', door: 'open', opened: T0, expires: 1e300 }); }, 'none', 'pendingCloses[1] (203.0.113.10): expires: expected a time (ms since 1970, 0 to 8.64e15) or null, found 1e+300; dropped'],
    ['a recorded stop command that is no text', (f: any) => { f.pendingCloses[0].stop = 12; }, 'pendingCloses', 'pendingCloses[0] (203.0.113.9): stop: expected a command, found 12; dropped'],
    ['pending closes that are no list', (f: any) => { f.pendingCloses = { src: '203.0.113.9' }; }, 'pendingCloses', 'pendingCloses: expected a list, found {"src":"203.0.113.9"}; ignored'],
    // Bans: until, offenses, addresses, duplicates.
    ['an absurd ban end', (f: any) => { f.bans[1].until = 1e300; }, 'bans', 'bans[1] (2001:db8::9): until: expected a time (ms since 1970, 0 to 8.64e15), found 1e+300; dropped'],
    ['no ban end', (f: any) => { delete f.bans[1].until; }, 'bans', 'bans[1] (2001:db8::9): until: expected a time (ms since 1970, 0 to 8.64e15), found nothing; dropped'],
    ['zero offenses', (f: any) => { f.bans[1].offenses = 0; }, 'bans', 'bans[1] (2001:db8::9): offenses: expected a whole number, 1 or more, found 0; dropped'],
    ['fractional offenses', (f: any) => { f.bans[1].offenses = 2.5; }, 'bans', 'bans[1] (2001:db8::9): offenses: expected a whole number, 1 or more, found 2.5; dropped'],
    ['offenses in a string', (f: any) => { f.bans[1].offenses = '3'; }, 'bans', 'bans[1] (2001:db8::9): offenses: expected a whole number, 1 or more, found "3"; dropped'],
    ['a banned address not in canonical form', (f: any) => { f.bans[1].src = '2001:0db8::9'; }, 'bans', 'bans[1]: src: expected an address in canonical form, found "2001:0db8::9"; dropped'],
    ['a second ban of one address', (f: any) => { f.bans[1] = { ...f.bans[0], offenses: 5 }; }, 'bans', 'bans[1] (198.51.100.9): a second entry for the same address; dropped'],
    // Counts of bans: address, count, duplicates.
    ['a count of bans of 0', (f: any) => { f.offenses[1].offenses = 0; }, 'offenses', 'offenses[1] (2001:db8::10): offenses: expected a count of bans (a whole number, 1 to 1000000), found 0; dropped'],
    ['a fractional count of bans', (f: any) => { f.offenses[1].offenses = 1.5; }, 'offenses', 'offenses[1] (2001:db8::10): offenses: expected a count of bans (a whole number, 1 to 1000000), found 1.5; dropped'],
    ['a count of bans past 1000000', (f: any) => { f.offenses[1].offenses = 1_000_001; }, 'offenses', 'offenses[1] (2001:db8::10): offenses: expected a count of bans (a whole number, 1 to 1000000), found 1000001; dropped'],
    ['a count of bans in a string', (f: any) => { f.offenses[1].offenses = '2'; }, 'offenses', 'offenses[1] (2001:db8::10): offenses: expected a count of bans (a whole number, 1 to 1000000), found "2"; dropped'],
    ['no count of bans', (f: any) => { delete f.offenses[1].offenses; }, 'offenses', 'offenses[1] (2001:db8::10): offenses: expected a count of bans (a whole number, 1 to 1000000), found nothing; dropped'],
    ['a counted address not in canonical form', (f: any) => { f.offenses[1].src = '2001:DB8::10'; }, 'offenses', 'offenses[1]: src: expected an address in canonical form, found "2001:DB8::10"; dropped'],
    ['a counted address with a command in it', (f: any) => { f.offenses[1].src = '1.2.3.4; rm -rf /'; }, 'offenses', 'offenses[1]: src: expected an address in canonical form, found "1.2.3.4; rm -rf /"; dropped'],
    ['a second count of one address', (f: any) => { f.offenses[1].src = '198.51.100.10'; }, 'offenses', 'offenses[1] (198.51.100.10): a second entry for the same address; dropped'],
    ['a count of bans that is no object', (f: any) => { f.offenses[1] = 3; }, 'offenses', 'offenses[1]: expected an object, found 3; dropped'],
    ['counts of bans that are no list', (f: any) => { f.offenses = { '198.51.100.10': 2 }; }, 'offenses-all', 'offenses: expected a list, found {"198.51.100.10":2}; ignored'],
    // One-time sequences used: counts.
    ['a negative count of used sequences', (f: any) => { f.oneTimeUsed.other = -1; }, 'oneTimeUsed', 'oneTimeUsed["other"]: expected a count (a whole number, 0 or more), found -1; dropped'],
    ['a fractional count of used sequences', (f: any) => { f.oneTimeUsed.other = 0.5; }, 'oneTimeUsed', 'oneTimeUsed["other"]: expected a count (a whole number, 0 or more), found 0.5; dropped'],
    ['a huge count of used sequences', (f: any) => { f.oneTimeUsed.other = 1e300; }, 'oneTimeUsed', 'oneTimeUsed["other"]: expected a count (a whole number, 0 or more), found 1e+300; dropped'],
    ['a count of null', (f: any) => { f.oneTimeUsed.other = null; }, 'oneTimeUsed', 'oneTimeUsed["other"]: expected a count (a whole number, 0 or more), found null; dropped'],
    ['used sequences that are a list', (f: any) => { f.oneTimeUsed = [1]; }, 'oneTimeUsed-all', 'oneTimeUsed: expected an object, found [1]; ignored'],
    // sshd sessions: pid, address, client port, login time, duplicates.
    ['a session with pid 0', (f: any) => { f.sessions[1].pid = 0; }, 'sessions', 'sessions[1] (2001:db8:5::7): pid: expected a process id (a whole number, 1 to 2^22), found 0; dropped'],
    ['a session with a pid in a string', (f: any) => { f.sessions[1].pid = '2400'; }, 'sessions', 'sessions[1] (2001:db8:5::7): pid: expected a process id (a whole number, 1 to 2^22), found "2400"; dropped'],
    ['a session with a pid past pid_max', (f: any) => { f.sessions[1].pid = 2 ** 22 + 1; }, 'sessions', 'sessions[1] (2001:db8:5::7): pid: expected a process id (a whole number, 1 to 2^22), found 4194305; dropped'],
    ['a session address with a command in it', (f: any) => { f.sessions[1].src = '1.2.3.4; rm -rf /'; }, 'sessions', 'sessions[1]: src: expected an address in canonical form, found "1.2.3.4; rm -rf /"; dropped'],
    ['a session address not in canonical form', (f: any) => { f.sessions[1].src = '2001:DB8:5::7'; }, 'sessions', 'sessions[1]: src: expected an address in canonical form, found "2001:DB8:5::7"; dropped'],
    ['a session client port of 0', (f: any) => { f.sessions[1].port = 0; }, 'sessions', 'sessions[1] (2001:db8:5::7): port: expected a port (1-65535) or nothing, found 0; dropped'],
    ['a session client port past 65535', (f: any) => { f.sessions[1].port = 65_536; }, 'sessions', 'sessions[1] (2001:db8:5::7): port: expected a port (1-65535) or nothing, found 65536; dropped'],
    ['a session client port in a string', (f: any) => { f.sessions[1].port = '22'; }, 'sessions', 'sessions[1] (2001:db8:5::7): port: expected a port (1-65535) or nothing, found "22"; dropped'],
    ['a session without a login time', (f: any) => { delete f.sessions[1].since; }, 'sessions', 'sessions[1] (2001:db8:5::7): since: expected a time (ms since 1970, 0 to 8.64e15), found nothing; dropped'],
    ['a second session of one pid', (f: any) => { f.sessions[1].pid = 2211; }, 'sessions', 'sessions[1] (2001:db8:5::7): a second entry for the same sshd pid; dropped'],
    // Logouts in logout_grace: address, end, duplicates.
    ['a logout address with a command in it', (f: any) => { f.logouts[1].src = '1.2.3.4; rm -rf /'; }, 'logouts', 'logouts[1]: src: expected an address in canonical form, found "1.2.3.4; rm -rf /"; dropped'],
    ['a logout address not in canonical form', (f: any) => { f.logouts[1].src = '2001:DB8:5::20'; }, 'logouts', 'logouts[1]: src: expected an address in canonical form, found "2001:DB8:5::20"; dropped'],
    ['a logout without its end', (f: any) => { delete f.logouts[1].ended; }, 'logouts', 'logouts[1] (2001:db8:5::20): ended: expected a time (ms since 1970, 0 to 8.64e15), found nothing; dropped'],
    ['a logout ended at an absurd time', (f: any) => { f.logouts[1].ended = 1e300; }, 'logouts', 'logouts[1] (2001:db8:5::20): ended: expected a time (ms since 1970, 0 to 8.64e15), found 1e+300; dropped'],
    ['a logout ended at a time in a string', (f: any) => { f.logouts[1].ended = '5'; }, 'logouts', 'logouts[1] (2001:db8:5::20): ended: expected a time (ms since 1970, 0 to 8.64e15), found "5"; dropped'],
    ['a second logout of one address', (f: any) => { f.logouts[1].src = '203.0.113.20'; }, 'logouts', 'logouts[1] (203.0.113.20): a second entry for the same address; dropped'],
    ['logouts that are no list', (f: any) => { f.logouts = 'none'; }, 'logouts-all', 'logouts: expected a list, found "none"; ignored'],
    ['sessions that are no list', (f: any) => { f.sessions = { pid: 2211 }; }, 'sessions-all', 'sessions: expected a list, found {"pid":2211}; ignored'],
  ])('drops %s with a warning and keeps the rest', (_name, spoil, part, warning) => {
    const file = goodFile();
    spoil(file);
    const loaded = loadText(JSON.stringify(file));
    expect(loaded.warnings).toEqual([warning]);
    expect(loaded.problem).toBeUndefined();
    const expected = goodFile();
    if (part === 'logs') delete expected.logs[KERN];
    if (part === 'grants' || part === 'bans' || part === 'offenses' || part === 'sessions' || part === 'logouts') expected[part].splice(1, 1);
    if (part === 'logouts-all') expected.logouts = [];
    if (part === 'offenses-all') expected.offenses = [];
    if (part === 'sessions-all') expected.sessions = [];
    if (part === 'pendingCloses') expected.pendingCloses = [];
    if (part === 'oneTimeUsed') delete expected.oneTimeUsed.other;
    if (part === 'oneTimeUsed-all') expected.oneTimeUsed = {};
    expect(loaded.state).toEqual(expected);
  });

  it.each([
    ['null', 'null'],
    ['a list', '[1, 2]'],
    ['a number', '7'],
    ['grants that are no list', '{"version": 1, "grants": {}}'],
  ])('refuses a file that is %s as a whole, without throwing', (_name, text) => {
    expect(loadText(text)).toEqual({ state: emptyState(), problem: 'not a knockwatch state file (version 1)', warnings: [] });
  });

  it('keeps only the known fields of an entry', () => {
    const file = goodFile();
    file.grants[0].command = 'rm -rf /';
    expect(loadText(JSON.stringify(file)).state.grants[0]).toEqual(goodFile().grants[0]);
  });
});

describe('state file round trip', () => {
  it('loads back a started grant and an owed stop command whatever the length of the config\'s stop_command', () => {
    // The config takes a stop_command of any length; a restart must still be able to run it.
    const stop = `/usr/sbin/fw del 203.0.113.7 ${'--comment x '.repeat(400)}`.trim();
    expect(Buffer.byteLength(stop)).toBeGreaterThan(4096);
    const state = { ...emptyState(), grants: [{ src: '203.0.113.7', door: 'open', opened: 1000, expires: 31_000, started: true, stop }],
      pendingCloses: [{ src: '203.0.113.8', door: 'open', opened: 1000, expires: 31_000, started: true, stop }] };
    const path = join(tempDir(), 'state.json');
    saveState(path, state);
    expect(loadState(path)).toEqual({ state, warnings: [] });
  });
});
