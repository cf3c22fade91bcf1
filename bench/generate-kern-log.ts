import { createWriteStream } from 'node:fs';
import { seededFractions } from './random.js';

export interface KernLogShape {
  lines: number;
  sources: number;
  // Share of lines that are netfilter LOG lines; the rest are other kernel messages.
  logShare: number;
  // Share of LOG lines on a door or trap port of the demo config (the rest: any port).
  doorShare: number;
  // Share of LOG lines from IPv6 sources.
  ipv6Share: number;
  start: number;
  linesPerSecond: number;
}

const NOISE = [
  'e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx',
  'EXT4-fs (vda1): re-mounted 6f2c1a3e-1c1b-4d0e-9a57-2b0a1d7c9e11. Quota mode: none.',
  'audit: type=1400 audit(1795338005.002:58): apparmor="STATUS" operation="profile_load" name="/usr/sbin/sshd" pid=812',
  'TCP: request_sock_TCP: Possible SYN flooding on port 22. Sending cookies.  Check SNMP counters.',
  'perf: interrupt took too long (2503 > 2500), lowering kernel.perf_event_max_sample_rate to 79800',
];
// The demo config's door steps (7000, 8000, 9000/udp) and trap ports (7500, 8500).
const DOOR_PORTS = [7000, 8000, 9000, 7500, 8500];
const MAC4 = 'MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00';
const MAC6 = 'MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:86:dd';

// A deterministic pseudo-random kern.log in rsyslog's RFC 3339 format.
export async function generateKernLog(path: string, shape: KernLogShape): Promise<number> {
  const random = seededFractions(12345);
  return writeLines(path, shape.lines, (i) => {
    const stamp = stampOf(shape.start + (i / shape.linesPerSecond) * 1000);
    const uptime = (1000 + i / shape.linesPerSecond).toFixed(6).padStart(12);
    if (random() >= shape.logShare) return `${stamp} gate kernel: [${uptime}] ${NOISE[i % NOISE.length] ?? ''}\n`;
    const n = Math.floor(random() * shape.sources);
    const v6 = random() < shape.ipv6Share;
    const onDoor = random() < shape.doorShare;
    const port = onDoor ? DOOR_PORTS[Math.floor(random() * DOOR_PORTS.length)] ?? 7000 : 1 + Math.floor(random() * 65535);
    const spt = 32768 + Math.floor(random() * 28000);
    const udp = port === 9000 ? random() < 0.9 : !onDoor && random() < 0.3;
    return `${stamp} gate kernel: [${uptime}] ${logMessage(n, v6, udp, port, spt, i)}\n`;
  });
}

export interface FloodShape {
  lines: number;
  start: number;
  linesPerSecond: number;
}

// Every line a SYN from a new (spoofed) source on the demo door's first knock port.
export async function generateFloodLog(path: string, shape: FloodShape): Promise<number> {
  return writeLines(path, shape.lines, (i) => {
    const stamp = stampOf(shape.start + (i / shape.linesPerSecond) * 1000);
    const uptime = (1000 + i / shape.linesPerSecond).toFixed(6).padStart(12);
    return `${stamp} gate kernel: [${uptime}] ${logMessage(i, false, false, 7000, 1024 + (i % 60000), i)}\n`;
  });
}

function logMessage(n: number, v6: boolean, udp: boolean, port: number, spt: number, i: number): string {
  const addresses = v6
    ? `${MAC6} SRC=2001:0db8:00${((n >> 16) & 255).toString(16).padStart(2, '0')}:0000:0000:0000:0000:${(n & 0xffff).toString(16).padStart(4, '0')} DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=${udp ? 49 : 80} TC=0 HOPLIMIT=56 FLOWLBL=${i & 0xfffff}`
    : `${MAC4} SRC=10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255} DST=192.0.2.1 LEN=${udp ? 29 : 60} TOS=0x00 PREC=0x00 TTL=52 ID=${i & 65535} DF`;
  return udp
    ? `KNOCK IN=eth0 OUT= ${addresses} PROTO=UDP SPT=${spt} DPT=${port} LEN=9 `
    : `KNOCK IN=eth0 OUT= ${addresses} PROTO=TCP SPT=${spt} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

function stampOf(time: number): string {
  return new Date(time).toISOString().replace('Z', '000+00:00');
}

async function writeLines(path: string, lines: number, lineAt: (i: number) => string): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let buffer = '';
  for (let i = 0; i < lines; i++) {
    buffer += lineAt(i);
    if (buffer.length > 1 << 20) {
      bytes += buffer.length;
      if (!out.write(buffer)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      buffer = '';
    }
  }
  bytes += buffer.length;
  out.end(buffer);
  await new Promise<void>((resolve) => out.once('finish', () => resolve()));
  return bytes;
}
