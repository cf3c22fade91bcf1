import type { ConfigProblem } from './problems.js';
import { createDoorKind } from '../doors/create-door-kind.js';
import { formatStep, knockKey } from '../doors/format-step.js';
import type { Door, DoorStep } from './types.js';

// A knock or trap port that is also a port a door opens gets LOG+DROP ahead of the whitelist
// and the grants: the protected service would be shut for everyone.
export function checkPortConflicts(doors: readonly Door[], trapPorts: readonly DoorStep[], file: string, problems: ConfigProblem[]): void {
  const openedBy = new Map<string, string>();
  for (const door of doors) for (const step of door.open) if (!openedBy.has(formatStep(step))) openedBy.set(formatStep(step), door.name);
  const report = (section: string, key: string, step: DoorStep): void => {
    const opener = openedBy.get(formatStep(step));
    if (opener === undefined) return;
    problems.push({
      file,
      section,
      key,
      expected: `knock ports other than the ports doors open (${formatStep(step)} is opened by [${opener}]; its LOG+DROP would shut it for everyone, whitelist included)`,
      found: formatStep(step),
    });
  };
  for (const door of doors) {
    const steps = new Map<string, DoorStep>();
    for (const step of createDoorKind(door.knock).steps()) steps.set(formatStep(step), step);
    for (const step of steps.values()) report(door.name, knockKey(door), step);
  }
  for (const step of trapPorts) report('options', 'trap_ports', step);
  // A trap port that is also a knock step traps whoever knocks the door correctly.
  const knockedBy = new Map<string, string>();
  for (const door of doors) for (const step of createDoorKind(door.knock).steps()) if (!knockedBy.has(formatStep(step))) knockedBy.set(formatStep(step), door.name);
  for (const step of trapPorts) {
    const door = knockedBy.get(formatStep(step));
    if (door === undefined) continue;
    problems.push({
      file, section: 'options', key: 'trap_ports', found: formatStep(step),
      expected: `ports no door knocks on (${formatStep(step)} is a step of [${door}]; knocking it correctly would trap the knocker)`,
    });
  }
  // A hmac door skips the other doors' ports and the trap ports in its range: what is left
  // must still hold its steps, or no sequence can be derived.
  for (const { name, knock } of doors) {
    if (knock.kind !== 'rotating' || knock.exclude.length === 0) continue;
    const left = knock.range.high - knock.range.low + 1 - knock.exclude.length;
    if (left >= knock.length) continue;
    problems.push({
      file, section: name, key: 'port_range', found: `${left} ports`,
      expected: `at least length (${knock.length}) ports besides those it skips (${knock.exclude.join(', ')}: other doors, trap ports)`,
    });
  }
}
