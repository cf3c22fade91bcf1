// Sends COUNT TCP SYNs as fast as it can from the namespace it is run in, each from its own
// source port, none retransmitted. Usage: node syn-flood.mjs HOST PORT COUNT. Prints the ms
// from the first SYN to the last. KNOCK_FROM=ADDR sends from that local address.
import net from 'node:net';

const [host, portText, countText] = process.argv.slice(2);
const count = Number(countText);
const from = process.env.KNOCK_FROM || undefined;
// Sockets open at once: well under the file descriptor limit.
const BATCH = 250;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const first = performance.now();
let last = first;
for (let sent = 0; sent < count; sent += BATCH) {
  const sockets = [];
  for (let i = sent; i < Math.min(count, sent + BATCH); i++) {
    const socket = net.connect({ host, port: Number(portText), localAddress: from });
    socket.on('error', () => {});
    sockets.push(socket);
  }
  // The SYNs are on the wire once connect() has run (on the next tick); destroyed before
  // any is retransmitted.
  await pause(5);
  last = performance.now();
  for (const socket of sockets) socket.destroy();
}
process.stdout.write(`${last - first}\n`);
