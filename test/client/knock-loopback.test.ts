import dgram from 'node:dgram';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { KnockSeams } from '../../src/client/knock-command.js';
import { main } from '../../src/cli/main.js';
import type { CliDeps } from '../../src/cli/output.js';

// `knockwatch knock` with the real network, over loopback (no root): a TCP listener sees a
// TCP step's SYN as a connection the kernel completed, a UDP socket receives the UDP step,
// and --connect pipes through a real connection.
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function tcpServer(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

// A port nothing listens on (a TCP step to it is refused: fine for a knock).
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function run(argv: string[], input: string[] = []) {
  let stdout = '';
  let stderr = '';
  let piped = '';
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      piped += chunk.toString();
      done();
    },
  });
  const deps: CliDeps & KnockSeams = {
    stdout: { write: (text: string) => { stdout += text; } },
    stderr: { write: (text: string) => { stderr += text; } },
    env: {},
    stdio: { input: Readable.from(input), output },
  };
  const code = await main(['knock', ...argv], deps);
  return { code, stdout, stderr, piped };
}

describe('knockwatch knock over loopback', () => {
  it('sends a TCP step as a SYN and a UDP step as one datagram, in order', async () => {
    const seen: string[] = [];
    let bothSeen: () => void = () => {};
    const both = new Promise<void>((resolve) => { bothSeen = resolve; });
    const see = (text: string): void => {
      if (seen.push(text) === 2) bothSeen();
    };
    const tcpPort = await tcpServer((socket) => see(`tcp from ${socket.remoteAddress}`));
    const udp = dgram.createSocket('udp4');
    udp.on('message', (message, from) => see(`udp ${message.length} byte from ${from.address}`));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    closers.push(() => udp.close());
    const result = await run(['-4', 'localhost', String(tcpPort), `${udp.address().port}:udp`, String(await closedPort()), '-d', '50']);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '', piped: '' });
    await both;
    expect(seen).toEqual(['tcp from 127.0.0.1', 'udp 1 byte from 127.0.0.1']);
  });

  it('--connect pipes stdin to the port and the port to stdout, and exits 0 when it closes', async () => {
    const port = await tcpServer((socket) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => { received += chunk.toString(); });
      socket.on('end', () => socket.end(received.toUpperCase()));
    });
    const result = await run(['127.0.0.1', String(await closedPort()), '--connect', String(port), '-v'], ['hello ', 'world']);
    expect(result).toEqual({ code: 0, stdout: '', stderr: expect.stringMatching(/^Knocked 127\.0\.0\.1 \d+\/tcp\.\nConnected to 127\.0\.0\.1 port \d+\.\n$/), piped: 'HELLO WORLD' });
  });

  it('--connect exits 1 when the port is still closed after --wait', async () => {
    const port = await closedPort();
    const result = await run(['127.0.0.1', String(port), '--connect', String(port), '--wait', '600ms']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `knockwatch knock: 127.0.0.1 port ${port} did not open within 0.6 s.\n`, piped: '' });
  });
});
