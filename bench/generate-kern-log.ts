import { createWriteStream } from 'node:fs';

export interface KernLogShape {
  lines: number;
  sources: number;
  // Share of lines that are netfilter LOG lines; the rest are other kernel messages.
  logShare: number;
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
const KNOCK_PORTS = [7000, 8000, 9000];

// A deterministic pseudo-random kern.log in rsyslog's RFC 3339 format.
export async function generateKernLog(path: string, shape: KernLogShape): Promise<number> {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const out = createWriteStream(path);
  let bytes = 0;
  let buffer = '';
  for (let i = 0; i < shape.lines; i++) {
    const time = shape.start + (i / shape.linesPerSecond) * 1000;
    const stamp = new Date(time).toISOString().replace('Z', '000+00:00');
    const uptime = (1000 + i / shape.linesPerSecond).toFixed(6).padStart(12);
    let message: string;
    if (random() < shape.logShare) {
      const n = Math.floor(random() * shape.sources);
      const src = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      const onDoor = random() < 0.05;
      const port = onDoor ? KNOCK_PORTS[Math.floor(random() * 3)] ?? 7000 : 1 + Math.floor(random() * 65535);
      const spt = 32768 + Math.floor(random() * 28000);
      message = port === 9000 && random() < 0.5
        ? `KNOCK IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=${src} DST=192.0.2.1 LEN=29 TOS=0x00 PREC=0x00 TTL=52 ID=${i & 65535} DF PROTO=UDP SPT=${spt} DPT=${port} LEN=9 `
        : `KNOCK IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=${i & 65535} DF PROTO=TCP SPT=${spt} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;
    } else {
      message = NOISE[i % NOISE.length] ?? '';
    }
    buffer += `${stamp} gate kernel: [${uptime}] ${message}\n`;
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
