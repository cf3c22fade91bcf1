import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

// Per process: a secret's fingerprint tells two secrets apart (a reload sees a door change)
// without being a hash anyone could test guesses against.
const FINGERPRINT_KEY = randomBytes(32);

// A door's secret: its bytes only through reveal(); printed, logged or turned into JSON it
// shows as a fingerprint, never as its content.
export class Secret {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = Buffer.from(bytes);
  }

  reveal(): Buffer {
    return this.#bytes;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return `secret:${createHmac('sha256', FINGERPRINT_KEY).update(this.#bytes).digest('hex').slice(0, 16)}`;
  }

  [inspect.custom](): string {
    return '[secret]';
  }
}

// A secret file's bytes without one trailing newline (an editor's; CRLF too): what the daemon
// and `knockwatch knock` both derive from.
export function withoutFinalNewline(bytes: Buffer): Buffer {
  return bytes.at(-1) === 0x0a ? bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1) : bytes;
}
