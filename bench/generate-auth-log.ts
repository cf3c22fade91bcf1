import { seededFractions } from './random.js';

// Mixed sshd messages, as a busy server's auth.log has them (deterministic).
const TEMPLATES: ((ip: string, pid: number, port: number) => string)[] = [
  (ip, pid, port) => `sshd[${pid}]: Invalid user admin${pid % 97} from ${ip} port ${port}`,
  (ip, pid, port) => `sshd[${pid}]: Failed password for invalid user admin${pid % 97} from ${ip} port ${port} ssh2`,
  (ip, pid, port) => `sshd[${pid}]: Failed password for root from ${ip} port ${port} ssh2`,
  (ip, pid, port) => `sshd[${pid}]: Connection closed by authenticating user root ${ip} port ${port} [preauth]`,
  (ip, pid, port) => `sshd[${pid}]: Received disconnect from ${ip} port ${port}:11: Bye Bye [preauth]`,
  (ip, pid, port) => `sshd[${pid}]: Disconnected from invalid user admin ${ip} port ${port} [preauth]`,
  (ip, pid, port) => `sshd[${pid}]: Accepted publickey for alice from ${ip} port ${port} ssh2: ED25519 SHA256:u5Jq0wWxN7b0Cz3dC6vQ2lH0wYl9mK3xJ8q3n0p1rTk`,
  (_ip, pid) => `sshd[${pid}]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)`,
  (_ip, pid) => `sshd[${pid}]: pam_unix(sshd:session): session closed for user alice`,
  (ip, pid, port) => `sshd[${pid}]: Disconnected from user alice ${ip} port ${port}`,
  (ip, pid) => `sshd[${pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=root`,
  (ip, pid, port) => `sshd[${pid}]: error: kex_exchange_identification: Connection closed by remote host ${ip} port ${port}`,
  (_ip, pid) => `CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
  (ip, pid, port) => `sshd[${pid}]: error: maximum authentication attempts exceeded for root from ${ip} port ${port} ssh2 [preauth]`,
  (ip, pid, port) => `sshd[${pid}]: Failed publickey for git from ${ip} port ${port} ssh2: RSA SHA256:u5Jq0wWxN7b0Cz3dC6vQ2lH0wYl9mK3xJ8q3n0p1rTk`,
  (ip, pid, port) => `sshd-session[${pid}]: Connection reset by ${ip} port ${port} [preauth]`,
  (ip, pid, port) => `sshd[${pid}]: Did not receive identification string from ${ip} port ${port}`,
  (ip, pid, port) => `sshd[801]: drop connection #${pid % 10} from [${ip}]:${port} on [192.0.2.1]:22 penalty: failed authentication`,
];

export function generateAuthLines(count: number, start: number): string[] {
  const random = seededFractions(4242);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const stamp = new Date(start + i * 10).toISOString().replace('Z', '000+00:00');
    const n = Math.floor(random() * 50_000);
    const ip = n % 7 === 0 ? `2001:db8:${(n >> 8).toString(16)}::${(n & 255).toString(16)}` : `198.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    const template = TEMPLATES[Math.floor(random() * TEMPLATES.length)] ?? TEMPLATES[0];
    lines.push(`${stamp} gate ${template?.(ip, 1000 + (i % 30_000), 1024 + (i % 60_000))}`);
  }
  return lines;
}
