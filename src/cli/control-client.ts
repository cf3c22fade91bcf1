import { lstatSync } from 'node:fs';
import { connect } from 'node:net';

// Asks the running daemon one question over its control socket.
export interface ControlClient {
  request(message: object): Promise<unknown>;
}

const TIMEOUT = 5000;
// A status answer lists every grant, ban and tracked source; far above any real one.
const MAX_ANSWER = 64 * 1024 * 1024;

// Fails before anything is printed, so a caller never shows half an answer. Connection
// errors keep their code (ENOENT, ECONNREFUSED, EACCES) for the caller to word.
export function socketControlClient(path: string, timeout = TIMEOUT): ControlClient {
  return {
    request: async (message) => await new Promise<unknown>((resolve, reject) => {
      const stranger = ownedByStranger(path);
      if (stranger !== undefined) {
        reject(new Error(stranger));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const socket = connect(path);
      const fail = (error: Error): void => {
        socket.destroy();
        reject(error);
      };
      socket.setTimeout(timeout, () => fail(new Error(`no answer from knockwatch on ${path} within ${timeout / 1000} s`)));
      socket.once('connect', () => socket.write(`${JSON.stringify(message)}\n`));
      socket.on('error', fail);
      socket.on('data', (chunk: Buffer) => {
        const end = chunk.indexOf(10);
        chunks.push(end === -1 ? chunk : chunk.subarray(0, end));
        size += chunk.length;
        if (end === -1) {
          if (size > MAX_ANSWER) fail(new Error(`the answer from ${path} is larger than ${MAX_ANSWER} bytes`));
          return;
        }
        socket.destroy();
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error(`the answer from ${path} is not JSON`));
        }
      });
      socket.on('end', () => fail(new Error(`knockwatch on ${path} closed the connection without an answer`)));
    }),
  };
}

// A socket owned by another user is not knockwatch's (the daemon runs as root): it could be
// anyone's, waiting for an admin's requests. Missing or unreadable: connect() says why.
function ownedByStranger(path: string): string | undefined {
  let uid: number;
  try {
    uid = lstatSync(path).uid;
  } catch {
    return undefined;
  }
  const mine = process.geteuid?.() ?? uid;
  return uid === 0 || uid === mine ? undefined : `${path} belongs to uid ${uid}, not root; not asking it (is control_socket in a directory others can write?)`;
}
