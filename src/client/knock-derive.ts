import { withoutFinalNewline } from '../config/secret.js';
import { md5HourSequence } from '../doors/md5-hour.js';
import { deriveSequence, windowStartOf } from '../doors/rotating.js';
import type { SequenceFor } from './knock-steps.js';

const MD5_HOUR = 3600;
const DEFAULT_LENGTH = 5;

// The daemon's own derivation, fed as the daemon feeds it: the secret without one trailing
// newline (withoutFinalNewline), windows in epoch seconds. The current window only: the
// daemon accepts its neighbours within `skew` for clocks that drift.
export const deriveClientSequence: SequenceFor = (door, time, source) => {
  const secret = withoutFinalNewline(door.secret);
  if (door.derive === 'md5-hour') return md5HourSequence(secret.toString('utf8'), windowStartOf(time, MD5_HOUR), door.portRange);
  return deriveSequence({
    secret, door: door.name, windowStart: windowStartOf(time, door.rotate ?? 0), range: door.portRange,
    length: door.length ?? DEFAULT_LENGTH, protocols: door.protocols, source, exclude: door.exclude,
  });
};
