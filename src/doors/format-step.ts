import type { Door, DoorStep, RotatingSpec } from '../config/types.js';

export function formatStep(step: DoorStep): string {
  return step.proto === 'icmp' ? `icmp:${step.port}` : `${step.port}/${step.proto}`;
}

// The config key that says what a door's knock is.
export function knockKey(door: Door): string {
  switch (door.knock.kind) {
    case 'static':
      return 'sequence';
    case 'one-time':
      return 'one_time_sequences';
    case 'rotating':
      return 'port_range';
  }
}

// A door's knock as `check` shows it (a rotating door's secret and sequences never): the config key and what it holds.
export function describeKnock(door: Door): [key: string, text: string] {
  const knock = door.knock;
  switch (knock.kind) {
    case 'static':
      return ['sequence', `${knock.sequence.map(formatStep).join(', ')}${door.order === 'any' ? ' (any order)' : ''}`];
    case 'one-time':
      return ['one_time_sequences', `${knock.sequences.length} sequences, used in order`];
    case 'rotating':
      return ['port_range', describeRotating(knock)];
  }
}

function describeRotating(knock: RotatingSpec): string {
  const range = `${knock.range.low}-${knock.range.high}`;
  const skew = `skew ${knock.skew} window${knock.skew === 1 ? '' : 's'}`;
  const extras = [knock.bindSource ? 'bound to the knocking address' : '', knock.oncePerWindow ? 'once per window per address' : ''].filter(Boolean);
  const head = knock.derive === 'md5-hour'
    ? `${range}: 5 TCP ports per UTC hour (md5-hour recipe), ${skew}`
    : `${range}: ${knock.length} distinct ${knock.protocols.join('/').toUpperCase()} ports per ${knock.rotate}s window (hmac), ${skew}`;
  const excluded = knock.exclude.length > 0 ? `; skips ${knock.exclude.join(', ')} (other doors, trap ports)` : '';
  return [head, ...extras].join(', ') + excluded;
}
