import type { Door, DoorStep } from '../config/types.js';

export function formatStep(step: DoorStep): string {
  return `${step.port}/${step.proto}`;
}

// A door's knock as `check` shows it: the config key and what it holds.
export function describeKnock(door: Door): [key: string, text: string] {
  const knock = door.knock;
  switch (knock.kind) {
    case 'static':
      return ['sequence', `${knock.sequence.map(formatStep).join(', ')}${door.order === 'any' ? ' (any order)' : ''}`];
    case 'one-time':
      return ['one_time_sequences', `${knock.sequences.length} sequences, used in order`];
  }
}
