import { readSecretFile } from '../config/rotating-door.js';
import { withoutFinalNewline } from '../config/secret.js';
import { KnockRefusal } from './knock-steps.js';

// Reads a rotating door's secret file as the daemon does, with the user knocking (`uid`) as
// the owner it must have. The content is never part of a message.
export function readClientSecret(path: string, uid: number | undefined): Buffer {
  let secret: Buffer;
  try {
    secret = readSecretFile(path, uid, true);
  } catch (error) {
    throw new KnockRefusal(`secret file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (withoutFinalNewline(secret).length === 0) throw new KnockRefusal(`secret file ${path}: expected a secret, found an empty file`);
  return secret;
}
