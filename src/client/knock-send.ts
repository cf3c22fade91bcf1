import type { Readable, Duplex } from 'node:stream';
import type { DoorStep } from '../config/types.js';
import { ECHO_HEADERS } from './knock-echo.js';
import type { KnockNet, Target } from './knock-net.js';
import { KnockRefusal } from './knock-steps.js';

export type Sleep = (ms: number) => Promise<void>;

// A dropped SYN is sent again after 1 s, 3 s, ...: instead of waiting for that, a new attempt
// starts this often, so the first one made after the grant connects at once.
const RETRY_EVERY = 250;
// Attempts this old are overtaken by newer ones; closing them bounds the sockets held.
const ATTEMPT_LIFETIME = 2000;

// Sends the steps in order, `delay` ms apart. A TCP step's connect is abandoned when the
// next step is due (at once after the last), never waited on.
export async function sendSteps(net: KnockNet, sleep: Sleep, target: Target, steps: readonly DoorStep[], delay: number,
  local: string | undefined, sent: (step: DoorStep, index: number) => void): Promise<void> {
  refuseEchoSteps(net, target, steps);
  for (const [index, step] of steps.entries()) {
    const last = index === steps.length - 1;
    if (step.proto === 'icmp') {
      await net.echo(target, step.port, local);
      sent(step, index);
      if (!last) await sleep(delay);
    } else if (step.proto === 'udp') {
      await net.datagram(target, step.port, local);
      sent(step, index);
      if (!last) await sleep(delay);
    } else {
      const abandon = await net.syn(target, step.port, local);
      sent(step, index);
      try {
        if (!last) await sleep(delay);
      } finally {
        abandon();
      }
    }
  }
}

// Before any step is sent: a sequence the client cannot finish is not begun.
function refuseEchoSteps(net: KnockNet, target: Target, steps: readonly DoorStep[]): void {
  const echoes = steps.filter((step) => step.proto === 'icmp');
  if (echoes.length === 0) return;
  if (!net.canEcho()) throw new KnockRefusal(`icmp:${echoes[0]?.port} needs ping, which is not installed (Debian: apt install iputils-ping)`);
  const least = ECHO_HEADERS[target.family];
  const short = echoes.find((step) => step.port < least);
  if (short !== undefined) throw new KnockRefusal(`icmp:${short.port} is shorter than an IPv${target.family} echo request (${least} bytes at least)`);
}

// Connects to target:port, trying until `wait` ms have passed; undefined if it never opened.
export async function connectWithin(net: KnockNet, sleep: Sleep, now: () => number, target: Target, port: number,
  local: string | undefined, wait: number): Promise<Duplex | undefined> {
  const deadline = now() + wait;
  const live = new Map<() => void, number>();
  const state: { winner: Duplex | undefined; wake: () => void } = { winner: undefined, wake: () => {} };
  for (;;) {
    const attempt = net.connect(target, port, local);
    live.set(attempt.abandon, now());
    attempt.established.then((connection) => {
      live.delete(attempt.abandon);
      if (state.winner !== undefined) {
        connection.destroy();
        return;
      }
      state.winner = connection;
      state.wake();
    }, () => live.delete(attempt.abandon));
    const left = deadline - now();
    if (left > 0) await Promise.race([new Promise<void>((resolve) => { state.wake = resolve; }), sleep(Math.min(RETRY_EVERY, left))]);
    if (state.winner !== undefined || now() >= deadline) break;
    for (const [abandon, born] of live) {
      if (now() - born < ATTEMPT_LIFETIME) continue;
      abandon();
      live.delete(abandon);
    }
  }
  for (const abandon of live.keys()) abandon();
  return state.winner;
}

// Copies input to the connection and the connection to output until the connection closes
// (input's end half-closes it, as ssh's ProxyCommand expects). False if it ended in an error.
export function pipeThrough(connection: Duplex, input: Readable, output: NodeJS.WritableStream): Promise<boolean> {
  return new Promise((resolve) => {
    let failed = false;
    connection.on('error', () => {
      failed = true;
    });
    input.on('error', () => connection.end());
    connection.once('close', () => {
      input.unpipe(connection);
      // Nothing more will be read from it; left open, it would keep the process alive.
      input.destroy();
      resolve(!failed);
    });
    input.pipe(connection);
    connection.pipe(output, { end: false });
  });
}
