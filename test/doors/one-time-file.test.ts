import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { Door, DoorStep } from '../../src/config/types.js';
import { createDoorKind } from '../../src/doors/create-door-kind.js';
import { DoorSet } from '../../src/doors/door-set.js';
import { markProblem, markUsedLine } from '../../src/doors/one-time-file.js';
import type { FirewallBackend } from '../../src/firewall/backend.js';
import { preflight } from '../../src/runtime/preflight.js';

const steps = (...ports: number[]): DoorStep[] => ports.map((port) => ({ port, proto: 'tcp' }));

let dir = '';
let file = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-otp-'));
  file = join(dir, 'otp.txt');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// The one-time door as the live daemon has it: its lines marked in the file when used.
function liveDoor(): Door {
  const door = parseConfig(`[otp]\none_time_sequences = ${file}\n`, join(dir, 'k.ini')).doors[0] as Door;
  if (door.knock.kind !== 'one-time') throw new Error('not one-time');
  return { ...door, knock: { ...door.knock, mark: markUsedLine } };
}

describe('markUsedLine', () => {
  it('marks the line as knockd does: its first character becomes #, nothing else changes', () => {
    writeFileSync(file, '# spare sequences\n7000,8000,9000\n 7100,8100:udp\n7200,8200\n');
    markUsedLine(file, steps(7000, 8000, 9000));
    expect(readFileSync(file, 'utf8')).toBe('# spare sequences\n#000,8000,9000\n 7100,8100:udp\n7200,8200\n');
    markUsedLine(file, [{ port: 7100, proto: 'tcp' }, { port: 8100, proto: 'udp' }]);
    expect(readFileSync(file, 'utf8')).toBe('# spare sequences\n#000,8000,9000\n#7100,8100:udp\n7200,8200\n');
  });

  it('compares every step: a line that shares the first half is not the one used (knockd compares half)', () => {
    writeFileSync(file, '7000,8000,9000,9100\n7000,8000,9500,9600\n');
    markUsedLine(file, steps(7000, 8000, 9500, 9600));
    expect(readFileSync(file, 'utf8')).toBe('7000,8000,9000,9100\n#000,8000,9500,9600\n');
  });

  it('compares the number of steps: a shorter line the sequence begins with is not the one used', () => {
    writeFileSync(file, '7000,8000\n7000,8000,9000\n');
    markUsedLine(file, steps(7000, 8000, 9000));
    expect(readFileSync(file, 'utf8')).toBe('7000,8000\n#000,8000,9000\n');
  });

  it('throws when no unused line holds the sequence, and leaves the file as it was', () => {
    writeFileSync(file, '#000,8000\n');
    expect(() => markUsedLine(file, steps(7000, 8000))).toThrow(`${file}: no unused line with the sequence any more`);
    expect(readFileSync(file, 'utf8')).toBe('#000,8000\n');
  });

  it('replaces the file keeping its mode and owner, with no temporary file left', () => {
    writeFileSync(file, '7000,8000\n');
    chownSync(file, 1234, 5678);
    chmodSync(file, 0o640);
    markUsedLine(file, steps(7000, 8000));
    const stat = statSync(file);
    expect([stat.uid, stat.gid, stat.mode & 0o7777]).toEqual([1234, 5678, 0o640]);
    expect(readdirSync(dir)).toEqual(['otp.txt']);
  });

  it('never writes through a symbolic link put where its temporary file goes', () => {
    writeFileSync(file, '7000,8000\n');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep\n');
    symlinkSync(victim, join(dir, `.otp.txt.knockwatch-${process.pid}`));
    markUsedLine(file, steps(7000, 8000));
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
    expect(readFileSync(file, 'utf8')).toBe('#000,8000\n');
    expect(statSync(file).isFile()).toBe(true);
  });

  it('marks the file a symbolic link points to, as knockd does, and keeps the link', () => {
    const target = join(dir, 'spare.txt');
    writeFileSync(target, '7000,8000\n7100,8100\n');
    const link = join(dir, 'link.txt');
    symlinkSync(target, link);
    markUsedLine(link, steps(7000, 8000));
    expect(readFileSync(target, 'utf8')).toBe('#000,8000\n7100,8100\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

describe('a one-time door with its file marked', () => {
  it('marks the line before it says the door opens; losing the state file revives nothing', () => {
    writeFileSync(file, '7000,8000\n7100,8100\n');
    const kind = createDoorKind(liveDoor().knock);
    const [first] = kind.expected('203.0.113.7', 0);
    expect(kind.completed(first!, '203.0.113.7', 1000)).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe('#000,8000\n7100,8100\n');
    // A restart with no state file at all (or a crash right after the mark, before the
    // grant): the used sequence is gone, the next one is due.
    expect(createDoorKind(liveDoor().knock).expected('203.0.113.7', 2000)).toEqual([steps(7100, 8100)]);
  });

  it('a line that cannot be marked opens nothing and is used up (the safe side)', () => {
    writeFileSync(file, '7000,8000\n7100,8100\n');
    const door = liveDoor();
    if (door.knock.kind !== 'one-time') return;
    const kind = createDoorKind({ ...door.knock, mark: () => { throw new Error('disk full'); } });
    const [first] = kind.expected('203.0.113.7', 0);
    expect(kind.completed(first!, '203.0.113.7', 1000)).toBe('unmarked');
    expect(kind.expected('203.0.113.7', 2000)).toEqual([steps(7100, 8100)]);
  });

  // The file could not be written (read-only, full): the line stays unmarked, so the state
  // file must say it is used. Before, a restart expected it again, and whoever had seen the
  // knock could replay it.
  it('a line that could not be marked stays used across a restart and a reload, and is marked once it can be', () => {
    writeFileSync(file, '7000,8000\n7100,8100\n7200,8200\n');
    const door = liveDoor();
    if (door.knock.kind !== 'one-time') return;
    let writable = false;
    const mark = (path: string, sequence: readonly DoorStep[]): void => {
      if (!writable) throw new Error('EROFS');
      markUsedLine(path, sequence);
    };
    const set = new DoorSet([{ ...door, knock: { ...door.knock, mark } }]);
    const kind = set.doors[0]!.kind;
    expect(kind.completed(kind.expected('203.0.113.7', 0)[0]!, '203.0.113.7', 1000)).toBe('unmarked');
    writable = true;
    expect(kind.completed(kind.expected('203.0.113.7', 2000)[0]!, '203.0.113.7', 3000)).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe('7000,8000\n#100,8100\n7200,8200\n');
    const saved = set.usedOneTime();
    expect(saved).toEqual({ otp: 1 });
    // The restart (or a reload: the file read again, the counts carried): the unmarked line
    // is used, and marked now that the file can be written.
    const again = new DoorSet([{ ...liveDoor(), knock: { ...(liveDoor().knock as typeof door.knock), mark } }]);
    again.restoreOneTime(saved);
    expect(again.doors[0]?.kind.expected('203.0.113.7', 4000)).toEqual([steps(7200, 8200)]);
    expect(readFileSync(file, 'utf8')).toBe('#000,8000\n#100,8100\n7200,8200\n');
    expect(again.usedOneTime()).toEqual({});
  });

  it('keeps no count in the state file; a count from before files were marked marks those lines', () => {
    writeFileSync(file, '7000,8000\n7100,8100\n7200,8200\n');
    const set = new DoorSet([liveDoor()]);
    set.restoreOneTime({ otp: 2 });
    expect(readFileSync(file, 'utf8')).toBe('#000,8000\n#100,8100\n7200,8200\n');
    expect(set.doors[0]?.kind.expected('203.0.113.7', 0)).toEqual([steps(7200, 8200)]);
    expect(set.usedOneTime()).toEqual({});
  });

  it('without a marker (replay, check) writes nothing and counts in memory', () => {
    writeFileSync(file, '7000,8000\n7100,8100\n');
    const door = parseConfig(`[otp]\none_time_sequences = ${file}\n`, join(dir, 'k.ini')).doors[0] as Door;
    const set = new DoorSet([door]);
    const kind = set.doors[0]!.kind;
    expect(kind.completed(kind.expected('203.0.113.7', 0)[0]!, '203.0.113.7', 1000)).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe('7000,8000\n7100,8100\n');
    expect(set.usedOneTime()).toEqual({ otp: 1 });
  });
});

// A directory nobody may write: immutable for root (who writes through modes), mode 0555 for others.
function shut(path: string, shutIt: boolean): void {
  if (process.getuid?.() === 0) execFileSync('chattr', [shutIt ? '+i' : '-i', path]);
  else chmodSync(path, shutIt ? 0o555 : 0o755);
}

describe('a one-time file the daemon cannot mark', () => {
  // Before, the daemon started with it: every knock of the door burnt a sequence and opened
  // nothing, said as "another address used this one-time sequence first" (the packaged unit
  // has ProtectSystem=strict: a knockd.conf's file under /etc is read-only to it).
  it('stops the start before anything changes, naming the door, the file and why', async () => {
    const shutDir = join(dir, 'shut');
    mkdirSync(shutDir);
    file = join(shutDir, 'otp.txt');
    writeFileSync(file, '7000,8000\n');
    const config = parseConfig(`[options]\nfirewall = dry-run\nkernel_source = file:${file}\nauth_source = none\n[otp]\none_time_sequences = ${file}\n`, join(dir, 'k.ini'));
    const backend = { probe: async () => undefined } as unknown as FirewallBackend;
    const problemsOf = async (): Promise<string[]> => (await preflight(config, {}, undefined, () => backend)).problems.map((problem) => `${problem.kind}: ${problem.message}`);
    expect(markProblem(file)).toBeUndefined();
    expect(await problemsOf()).toEqual([]);
    shut(shutDir, true);
    try {
      const code = process.getuid?.() === 0 ? 'EPERM' : 'EACCES';
      expect(markProblem(file)).toBe(`its directory ${shutDir} cannot be written (${code})`);
      expect(await problemsOf()).toEqual([
        `runtime: [otp] one_time_sequences ${file}: its directory ${shutDir} cannot be written (${code}); knockwatch marks each used line there before the door opens (with systemd, add the directory to ReadWritePaths).`,
      ]);
    } finally {
      shut(shutDir, false);
    }
    expect(markProblem(join(dir, 'none'))).toBe('cannot be read (ENOENT)');
    expect(markProblem(dir)).toBe('not a regular file');
  });
});
