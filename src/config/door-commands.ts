import { splitCommand } from '../text/split-command.js';
import type { KnockdAction } from './knockd-action.js';
import { actionTargetKey, readKnockdCommand, UNDERSTOOD_FORMS } from './knockd-command.js';
import type { SectionReader } from './section-reader.js';
import { formatStep } from '../doors/format-step.js';
import type { Door, DoorStep } from './types.js';

// A door as read, with what the translation needs to know about its keys.
export interface DoorDraft {
  door: Door;
  reader: SectionReader;
  openGiven: readonly DoorStep[] | undefined;
}

type Meaning =
  | { kind: 'opens'; action: KnockdAction; ports: readonly DoorStep[]; timeout: number | undefined }
  | { kind: 'closes'; action: KnockdAction };

interface FamilyCommands {
  start: { key: string; action: KnockdAction } | undefined;
  stop: { key: string; action: KnockdAction } | undefined;
}

const DEFAULT_OPEN: readonly DoorStep[] = [{ port: 22, proto: 'tcp' }];

// Under nftables/iptables knockd's commands are not run: what they do (open ports, close
// another door's grant) becomes the door's meaning, or the config is refused.
export function translateDoorCommands(drafts: readonly DoorDraft[], firewall: string): Door[] {
  const families = drafts.map((draft) => readFamilies(draft, firewall));
  const meanings = drafts.map((draft, index) => {
    const commands = families[index];
    if (commands === undefined) return undefined;
    const v4 = commands.v4 && meaningOf(draft, commands.v4);
    const v6 = commands.v6 && meaningOf(draft, commands.v6);
    return { v4, v6 };
  });
  return drafts.map((draft, index) => {
    const meaning = meanings[index];
    if (meaning === undefined || (meaning.v4 === undefined && meaning.v6 === undefined)) return draft.door;
    if (meaning.v4 === undefined) {
      draft.reader.problem(draft.reader.has('command_6') ? 'command_6' : 'start_command_6', 'a start_command too (knockwatch doors open for IPv4 and IPv6 sources alike)', 'only an IPv6 command');
      return draft.door;
    }
    const v4 = meaning.v4 && resolve(draft, meaning.v4, (other) => meanings[other]?.v4, drafts);
    const v6 = meaning.v6 && resolve(draft, meaning.v6, (other) => meanings[other]?.v6 ?? meanings[other]?.v4, drafts);
    if (v4 === null || v6 === null) return draft.door;
    if (v4 !== undefined && v6 !== undefined && v4.text !== v6.text) {
      const key = draft.reader.has('start_command_6') ? 'start_command_6' : 'command_6';
      draft.reader.problem(key, `an IPv6 command that does what the IPv4 one does (${v4.text})`, v6.text);
      return draft.door;
    }
    const chosen = v4 ?? v6;
    return chosen === undefined ? draft.door : { ...draft.door, ...chosen.door, commandTranslation: `${draft.door.name} ${chosen.text}` };
  });
}

function readFamilies(draft: DoorDraft, firewall: string): { v4: FamilyCommands | undefined; v6: FamilyCommands | undefined } | undefined {
  const read = (keys: readonly string[]): { key: string; action: KnockdAction } | undefined | null => {
    const key = keys.find((candidate) => draft.reader.has(candidate));
    if (key === undefined) return undefined;
    const text = draft.reader.text(key) ?? '';
    const split = splitCommand(text);
    if (!split.ok) return null;
    const action = readKnockdCommand(split.argv);
    if (action !== undefined) return { key, action };
    draft.reader.problem(key, `a command knockwatch can translate for firewall = ${firewall} (${UNDERSTOOD_FORMS}); or set firewall = command to run knockd's commands as they are`, text);
    return null;
  };
  const start = read(['start_command', 'command']);
  const stop = read(['stop_command']);
  const start6 = read(['start_command_6', 'command_6']);
  const stop6 = read(['stop_command_6']);
  if (start === null || stop === null || start6 === null || stop6 === null) return undefined;
  const v4 = start || stop ? { start, stop } : undefined;
  const v6 = start6 || stop6 ? { start: start6 ?? start, stop: stop6 ?? stop } : undefined;
  return { v4, v6 };
}

function meaningOf(draft: DoorDraft, { start, stop }: FamilyCommands): Meaning | null {
  const { reader } = draft;
  if (start === undefined) {
    if (stop !== undefined) reader.problem(stop.key, 'a start_command before a stop_command (knockd runs stop_command only after it)', 'no start_command');
    return null;
  }
  const { action } = start;
  if (action.op === 'delete') {
    if (stop !== undefined) {
      reader.problem(stop.key, 'no stop_command on a door whose command deletes another door\'s access', reader.text(stop.key) ?? '');
      return null;
    }
    return { kind: 'closes', action };
  }
  if (stop !== undefined && (stop.action.op !== 'delete' || actionTargetKey(stop.action) !== actionTargetKey(action))) {
    reader.problem(stop.key, `a ${stop.key} that deletes what ${start.key} adds`, reader.text(stop.key) ?? '');
    return null;
  }
  if (action.target === 'set') {
    // The set's ports are in the admin's ruleset, not in the command: guessing 22/tcp could
    // open SSH where the set opens something else.
    if (draft.openGiven === undefined) {
      reader.problem('open', `open = with the ports nft set ${action.set} opens (the command does not say)`, '');
      return null;
    }
    return { kind: 'opens', action, ports: draft.openGiven, timeout: action.timeout };
  }
  if (draft.openGiven !== undefined && portsText(draft.openGiven) !== portsText(action.ports)) {
    reader.problem('open', `open = that agrees with ${start.key} (${portsText(action.ports)})`, portsText(draft.openGiven));
    return null;
  }
  return { kind: 'opens', action, ports: action.ports, timeout: undefined };
}

// The door's new open/closes/openFor and the sentence for `check`, or null after a problem.
function resolve(
  draft: DoorDraft,
  meaning: Meaning | null,
  meaningAt: (index: number) => Meaning | null | undefined,
  drafts: readonly DoorDraft[],
): { door: Partial<Door>; text: string } | null {
  if (meaning === null) return null;
  const { door, reader } = draft;
  if (meaning.kind === 'opens') {
    if (door.closes !== undefined) {
      reader.problem('closes', 'no closes = on a door whose command adds access', door.closes);
      return null;
    }
    const from = meaning.action.target === 'set' ? `its command adds %IP% to nft set ${meaning.action.set}; the ports come from open =` : 'from its command';
    const openFor = meaning.timeout !== undefined && !hasLifetime(draft) && !reader.has('stop_command') ? meaning.timeout : door.openFor;
    return { door: { open: meaning.ports, openFor }, text: `opens ${portsText(meaning.ports)} (${from})` };
  }
  const key = actionTargetKey(meaning.action);
  const target = drafts.findIndex((other, index) => {
    const found = meaningAt(index);
    return other !== draft && found?.kind === 'opens' && actionTargetKey(found.action) === key;
  });
  const openers = drafts.filter((other, index) => {
    const found = meaningAt(index);
    return other !== draft && found?.kind === 'opens' && actionTargetKey(found.action) === key;
  });
  if (openers.length > 1) {
    reader.problem(reader.has('start_command') ? 'start_command' : 'command', 'a command that deletes what exactly one other door adds',
      `${openers.map((other) => other.door.name).join(' and ')} all add ${describeTarget(meaning.action)}`);
    return null;
  }
  const targetMeaning = meaningAt(target);
  if (target === -1 || targetMeaning?.kind !== 'opens') {
    reader.problem(reader.has('start_command') ? 'start_command' : 'command', 'a command that deletes what another door\'s command adds', `no door adds ${describeTarget(meaning.action)}`);
    return null;
  }
  const targetName = drafts[target]?.door.name ?? '';
  if (door.closes !== undefined && door.closes !== targetName) {
    reader.problem('closes', `closes = ${targetName}, the door whose access its command deletes`, door.closes);
    return null;
  }
  return { door: { open: [], closes: targetName }, text: `closes ${targetName}'s ${portsText(targetMeaning.ports)}` };
}

function hasLifetime(draft: DoorDraft): boolean {
  return draft.reader.has('cmd_timeout') || draft.reader.has('open_for');
}

function describeTarget(action: KnockdAction): string {
  return action.target === 'set' ? `%IP% to nft set ${action.set}` : `an accept for ${portsText(action.ports)}`;
}

function portsText(ports: readonly DoorStep[]): string {
  return ports.map(formatStep).sort().join(', ');
}
