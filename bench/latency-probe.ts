// One knock and the wait for its door, in one process in the client's namespace, so that both
// ends of the figure come from one clock. Sends the knock steps from FROM (a TCP step is a
// SYN from a connect that is abandoned, a UDP step one datagram), takes the time the moment
// the last one has left, then starts a new non-blocking connect to the protected port every
// 0.5 ms until one connects: the port is dropped before the grant, so the earlier connects
// just hang and the first one made after the grant wins.
// Usage: node --expose-gc latency-probe.js HOST PORT FROM GAP_MS TIMEOUT_MS STEP...   (STEP: 7000 or 9000/udp)
// Prints one JSON line: {"ms": N} (last step sent -> connected) or {"error": "..."}.
import dgram from 'node:dgram';
import net from 'node:net';

const PROBE_EVERY = 0.5;
// A dropped SYN is sent again only after 1 s; probes this old have long been overtaken by
// newer ones, so they are closed to bound the sockets a slow grant leaves open.
const PROBE_LIFETIME = 100;
const WARM_UP_CONNECTS = 5;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sleeper = new Int32Array(new SharedArrayBuffer(4));

// Node's first successful connects run code that no knock step ran (a step's connect is
// refused or dropped), and a young heap is collected soon: both cost a millisecond or more
// at the wrong moment. So a few connects to a listener of our own, and a collection, first.
async function warmUp(): Promise<void> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  for (let i = 0; i < WARM_UP_CONNECTS; i++) {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.destroy();
  }
  server.close();
  (globalThis as { gc?: () => void }).gc?.();
}

// Sends one step; resolves once its packet has left.
async function sendStep(host: string, from: string, step: string, knockSockets: net.Socket[]): Promise<void> {
  const [port = '', proto = 'tcp'] = step.split('/');
  if (proto === 'udp') {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind({ address: from }, resolve));
    await new Promise<void>((resolve, reject) => socket.send('knock', Number(port), host, (error) => (error ? reject(error) : resolve())));
    socket.close();
    return;
  }
  const socket = net.connect({ host, port: Number(port), localAddress: from });
  socket.on('error', () => {});
  knockSockets.push(socket);
  // connect() runs on the next tick and puts the SYN on the wire; the firewall drops it.
  await new Promise((resolve) => setImmediate(resolve));
}

// Resolves to the time the first probe connected, or rejects at `deadline`.
function probe(host: string, port: number, from: string, deadline: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const live: { socket: net.Socket; born: number }[] = [];
    let done = false;
    const finish = (): void => {
      done = true;
      for (const { socket } of live.splice(0)) socket.destroy();
    };
    const start = (): void => {
      if (done) return;
      const now = performance.now();
      if (now > deadline) {
        finish();
        reject(new Error('no connection before the deadline'));
        return;
      }
      while (live.length > 0 && now - live[0]!.born > PROBE_LIFETIME) live.shift()!.socket.destroy();
      const socket = net.connect({ host, port, localAddress: from });
      socket.on('error', () => {});
      socket.once('connect', () => {
        if (done) return;
        const at = performance.now();
        finish();
        socket.destroy();
        resolve(at);
      });
      live.push({ socket, born: now });
      // The connect goes out on the next tick. Immediates queued from an immediate run in the
      // next turn of the loop, after its I/O poll: a connect that came through at once is
      // seen before 0.5 ms asleep (timers do whole ms), and again before the next probe.
      setImmediate(() => setImmediate(() => {
        Atomics.wait(sleeper, 0, 0, PROBE_EVERY);
        setImmediate(start);
      }));
    };
    start();
  });
}

async function main(): Promise<void> {
  const [host = '', portText = '', from = '', gapText = '', timeoutText = '', ...steps] = process.argv.slice(2);
  const knockSockets: net.Socket[] = [];
  try {
    await warmUp();
    for (const [index, step] of steps.entries()) {
      if (index > 0) await pause(Number(gapText));
      await sendStep(host, from, step, knockSockets);
    }
    const sent = performance.now();
    const connected = await probe(host, Number(portText), from, sent + Number(timeoutText));
    process.stdout.write(`${JSON.stringify({ ms: connected - sent })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
  } finally {
    for (const socket of knockSockets) socket.destroy();
  }
}

await main();
