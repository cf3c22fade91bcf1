import { lookup } from 'node:dns/promises';
import dgram from 'node:dgram';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { canPing, sendEcho } from './knock-echo.js';

export interface Target {
  address: string;
  family: 4 | 6;
}

// Everything `knockwatch knock` does on the network; tests give their own.
export interface KnockNet {
  // HOST (a name or an address) as one address of the family asked for, if any.
  lookup(host: string, family: 4 | 6 | undefined): Promise<Target>;
  // Starts a non-blocking connect: its SYN is the knock. Resolves once the SYN is on its way,
  // with what abandons the attempt (no handshake is ever waited for).
  syn(target: Target, port: number, local: string | undefined): Promise<() => void>;
  // Sends one UDP datagram.
  datagram(target: Target, port: number, local: string | undefined): Promise<void>;
  // Sends one echo request whose IP packet is `length` bytes long (an `icmp:N` step), and
  // whether this host can (it takes ping).
  echo(target: Target, length: number, local: string | undefined): Promise<void>;
  canEcho(): boolean;
  // One connection attempt: `established` resolves with the connection or rejects (refused,
  // unreachable); abandon() ends an attempt still waiting.
  connect(target: Target, port: number, local: string | undefined): { established: Promise<Duplex>; abandon(): void };
  // Whether ADDR is one of this host's own addresses (else --source is a NAT's public one).
  isLocalAddress(address: string): boolean;
  // The local address the kernel sends from to reach `target`.
  localAddressFor(target: Target): Promise<string>;
}

// knockd's knock sends one byte; what is in it does not matter, only that it is logged.
const DATAGRAM = Buffer.from([0]);

export const nodeKnockNet: KnockNet = {
  async lookup(host, family) {
    const found = await lookup(host, { family: family ?? 0 });
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  },

  syn(target, port, local) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: target.address, port, localAddress: local, family: target.family });
      const abandon = (): void => {
        socket.destroy();
      };
      // Emitted just before connect(2): from then on an error (refused, unreachable) is the
      // far end's answer to the knock and says nothing to the knocker.
      socket.once('connectionAttempt', () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        resolve(abandon);
      });
      socket.once('error', reject);
    });
  },

  async datagram(target, port, local) {
    const socket = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
    try {
      if (local !== undefined) await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: local }, resolve);
      });
      await new Promise<void>((resolve, reject) => socket.send(DATAGRAM, port, target.address, (error) => (error ? reject(error) : resolve())));
    } finally {
      socket.close();
    }
  },

  echo: sendEcho,
  canEcho: canPing,

  connect(target, port, local) {
    const socket = net.connect({ host: target.address, port, localAddress: local, family: target.family });
    const established = new Promise<Duplex>((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      // Kept after the connect: an error then is seen by whoever pipes the connection, and
      // must never be an unhandled one before that.
      socket.on('error', reject);
    });
    return { established, abandon: () => socket.destroy() };
  },

  isLocalAddress(address) {
    return Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address === address));
  },

  async localAddressFor(target) {
    // A connected UDP socket sends nothing: it only makes the kernel choose the route.
    const socket = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(9, target.address, resolve);
      });
      return socket.address().address;
    } finally {
      socket.close();
    }
  },
};
