import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { DoorSet } from '../../src/doors/door-set.js';
import { LiveDoors } from '../../src/doors/live-doors.js';
import { deriveSequence } from '../../src/doors/rotating.js';
import { Engine } from '../../src/engine/engine.js';
import { emptyState, loadState, saveState } from '../../src/runtime/state-file.js';
import { knock } from '../helpers/engine.js';

const SECRET = Buffer.from('a long random secret');
const HOUR = 1_699_999_200;
let dir = '';
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'kw-live-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function configOf(): Config {
  writeFileSync(join(dir, 'otp'), '7000,8000\n7100,8100\n');
  return parseConfig(`[rot]\nsecret_file = /s\nport_range = 10000-10999\nonce_per_window = yes\n[otp]\none_time_sequences = otp\n`, join(dir, 'k.ini'), undefined, undefined, () => SECRET);
}

function completions(engine: Engine, ports: readonly string[], at: number): string[] {
  return ports.flatMap((port, index) => engine.handleKnock(knock({ port, at: at + index }))
    .filter((decision) => decision.type === 'completed').map((decision) => ('door' in decision ? decision.door : '')));
}

const windowPortsAt = (windowStart: number): string[] => deriveSequence({ secret: SECRET, door: 'rot', windowStart, range: { low: 10000, high: 10999 }, length: 5, protocols: ['tcp'] })
  .map((step) => String(step.port));
const windowPorts = (offset: number): string[] => windowPortsAt(HOUR + offset * 3600);
const window0 = windowPorts(0);

describe('the live daemon\'s doors', () => {
  it('a used window survives a restart through the state file, written when it is burnt', () => {
    const statePath = join(dir, 'state.json');
    let live: LiveDoors;
    let writes = 0;
    // As the daemon does: each burn writes the state file at once (before the grant).
    live = new LiveDoors(() => {
      writes++;
      saveState(statePath, { ...emptyState(), usedWindows: live.saved(HOUR * 1000 + 200_000) });
    });
    const config = live.configFor(configOf());
    expect(completions(new Engine(new DoorSet(config.doors), config.options), window0, HOUR + 100)).toEqual(['rot']);
    // Once for the door's first current window, once for the burn.
    expect(writes).toBe(2);
    // The restart: a new ledger from the state file, a new engine.
    const again = new LiveDoors(() => undefined);
    again.restore(loadState(statePath).state);
    const restarted = again.configFor(configOf());
    expect(completions(new Engine(new DoorSet(restarted.doors), restarted.options), window0, HOUR + 300)).toEqual([]);
    // Without the state file the window would open again: the file is what keeps it used.
    const fresh = new LiveDoors(() => undefined).configFor(configOf());
    expect(completions(new Engine(new DoorSet(fresh.doors), fresh.options), window0, HOUR + 300)).toEqual(['rot']);
  });

  it('marks one-time lines in their file; the config as replay has it writes nothing', () => {
    const live = new LiveDoors(() => undefined).configFor(configOf());
    expect(completions(new Engine(new DoorSet(live.doors), live.options), ['7000', '8000'], 100)).toEqual(['otp']);
    expect(readFileSync(join(dir, 'otp'), 'utf8')).toBe('#000,8000\n7100,8100\n');
    const plain = configOf();
    expect(completions(new Engine(new DoorSet(plain.doors), plain.options), ['7000', '8000'], 100)).toEqual(['otp']);
    expect(readFileSync(join(dir, 'otp'), 'utf8')).toBe('7000,8000\n7100,8100\n');
  });

  it('leaves the doors as they compare across a reload (nothing of the records in their JSON)', () => {
    const plain = configOf();
    const live = new LiveDoors(() => undefined).configFor(plain);
    expect(JSON.stringify(live.doors)).toBe(JSON.stringify(plain.doors));
  });

  it('says when the firewall\'s knock ports turn next: at the next window of a door that turns', () => {
    const live = new LiveDoors(() => undefined);
    expect(live.nextTurn(configOf(), HOUR * 1000 + 100_000)).toBe((HOUR + 3600) * 1000);
  });

  // The host clock went back five windows while the daemon was down: window 0, whose sequence
  // may have been seen back then, is current again by the clock.
  it('a clock gone back across a restart revives no window older than the latest minus skew', () => {
    const statePath = join(dir, 'state.json');
    const live = new LiveDoors(() => saveState(statePath, { ...emptyState(), latestWindows: live.latestWindows() }));
    const config = live.configFor(configOf());
    expect(completions(new Engine(new DoorSet(config.doors), config.options), windowPorts(5), HOUR + 5 * 3600 + 100)).toEqual(['rot']);
    const restart = (): { engine: Engine; behind: unknown[][] } => {
      const behind: unknown[][] = [];
      const again = new LiveDoors(() => undefined, (...args) => behind.push(args));
      again.restore(loadState(statePath).state);
      const restarted = again.configFor(configOf());
      return { engine: new Engine(new DoorSet(restarted.doors), restarted.options), behind };
    };
    const back = restart();
    expect(completions(back.engine, window0, HOUR + 100)).toEqual([]);
    expect(completions(back.engine, window0, HOUR + 200)).toEqual([]);
    // Told once, with the window the clock gives and the latest one.
    expect(back.behind).toEqual([['rot', HOUR, HOUR + 5 * 3600]]);
    // Within skew of the latest window, a clock a little behind still opens.
    expect(completions(restart().engine, windowPorts(4), HOUR + 4 * 3600 + 100)).toEqual(['rot']);
    // Without the state file, window 0 would open again.
    const fresh = new LiveDoors(() => undefined).configFor(configOf());
    expect(completions(new Engine(new DoorSet(fresh.doors), fresh.options), window0, HOUR + 100)).toEqual(['rot']);
  });

  // A reload (or a restart) changes `rotate`: the latest window saved under the old rotate is
  // not a window of the new one, and must not make the clock look behind.
  it('a changed rotate neither shuts the door nor revives a window the clock has been past', () => {
    const behind: unknown[][] = [];
    const live = new LiveDoors(() => undefined, (...args) => behind.push(args));
    const doorsWith = (rotate: string): Engine => {
      const config = live.configFor(parseConfig(`[rot]\nsecret_file = /s\nport_range = 10000-10999\nrotate = ${rotate}\nskew = 0\n`, join(dir, 'k.ini'), undefined, undefined, () => SECRET));
      return new Engine(new DoorSet(config.doors), config.options);
    };
    // Half an hour into the hour under 30s windows, then 1h: the hour's window is current.
    expect(completions(doorsWith('30s'), windowPortsAt(HOUR + 1800), HOUR + 1800)).toEqual(['rot']);
    expect(completions(doorsWith('1h'), window0, HOUR + 1900)).toEqual(['rot']);
    expect(behind).toEqual([]);
    // Back to 30s with the clock set back within the hour: the 30s windows it has been past stay shut.
    expect(completions(doorsWith('30s'), windowPortsAt(HOUR + 600), HOUR + 600)).toEqual([]);
    expect(behind).toEqual([['rot', HOUR + 600, HOUR + 1800]]);
    // 1h with the clock set back an hour: the hour before stays shut.
    expect(completions(doorsWith('1h'), windowPorts(-1), HOUR - 3600 + 100)).toEqual([]);
  });
});
