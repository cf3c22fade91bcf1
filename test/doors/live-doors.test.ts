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

const window0 = deriveSequence({ secret: SECRET, door: 'rot', windowStart: HOUR, range: { low: 10000, high: 10999 }, length: 5, protocols: ['tcp'] }).map((step) => String(step.port));

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
    expect(writes).toBe(1);
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
});
