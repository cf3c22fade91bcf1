import type { KnockSpec } from '../config/types.js';
import type { DoorKind } from './door-kind.js';
import { OneTimeKind } from './one-time-kind.js';
import { RotatingKind } from './rotating.js';
import { StaticKind } from './static-kind.js';

export function createDoorKind(spec: KnockSpec): DoorKind {
  switch (spec.kind) {
    case 'static':
      return new StaticKind(spec.sequence);
    case 'one-time':
      return new OneTimeKind(spec.sequences, spec.file, spec.mark);
    case 'rotating':
      return new RotatingKind(spec);
  }
}
