// Sends knocks from the namespace it is run in: one SYN per TCP step, one datagram per UDP
// step. Usage: node knock.mjs HOST GAP_MS PORT[/udp]... Prints the epoch ms after the last.
// KNOCK_FROM=ADDR sends from that local address.
import dgram from 'node:dgram';
import net from 'node:net';

const [host, gapText, ...steps] = process.argv.slice(2);
const gap = Number(gapText);
const from = process.env.KNOCK_FROM || undefined;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

for (const [index, step] of steps.entries()) {
  const [port, proto = 'tcp'] = step.split('/');
  if (proto === 'udp') {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    if (from) await new Promise((resolve) => socket.bind({ address: from }, resolve));
    await new Promise((resolve) => socket.send('knock', Number(port), host, resolve));
    socket.close();
  } else {
    const socket = net.connect({ host, port: Number(port), localAddress: from });
    socket.on('error', () => {});
    // The SYN is on the wire once connect() has been called; the firewall drops it.
    await pause(5);
    socket.destroy();
  }
  if (index < steps.length - 1) await pause(gap);
}
process.stdout.write(`${performance.timeOrigin + performance.now()}\n`);
