import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FLEET_USER = 'knockwatch';
export const FLEET_PASSWORD = 'fleet-test-password';
// What the README's ACL user may do: nothing else is needed.
export const FLEET_ACL = `resetchannels ~knockwatch:web:* -@all +set +del +xadd +xread +xrevrange +scan +mget`;

// The test's own user, to look at keys and write what knockwatch never would.
export const ADMIN_PASSWORD = 'fleet-test-admin';

// A redis-server of this test file's own, on a free loopback port, with `default` disabled and
// knockwatch's ACL user; restartable on the same port (a reconnect), killed by stop().
export class TestRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'kw-redis-'));
  port = 0;
  // The knockwatch user's ACL rules (the README's unless a test takes some away).
  acl = FLEET_ACL;
  // TLS only (rediss://), with a CA of the test's own (caFile).
  tls = false;
  private child: ChildProcess | undefined;

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const conf = join(this.dir, 'redis.conf');
    writeFileSync(conf, [
      ...(!this.tls ? [`port ${this.port}`] : ['port 0', `tls-port ${this.port}`, ...this.certificates()]), 'bind 127.0.0.1', `dir ${this.dir}`, 'save ""', 'appendonly no',
      'user default off', `user ${FLEET_USER} on >${FLEET_PASSWORD} ${this.acl}`, `user admin on >${ADMIN_PASSWORD} ~* &* +@all`, '',
    ].join('\n'));
    const child = spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`redis-server exited: ${output}`)));
    });
  }

  get url(): string {
    return !this.tls ? `redis://${FLEET_USER}@127.0.0.1:${this.port}` : `rediss://${FLEET_USER}@localhost:${this.port}`;
  }

  get caFile(): string {
    return join(this.dir, 'ca.crt');
  }

  // A CA and a server certificate for localhost signed by it; the redis.conf lines for them.
  private certificates(): string[] {
    const file = (name: string): string => join(this.dir, name);
    const openssl = (args: readonly string[]): void => void execFileSync('openssl', [...args], { stdio: 'ignore' });
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=knockwatch test CA']);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost']);
    writeFileSync(file('ext'), 'subjectAltName=DNS:localhost\n');
    openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.crt'), '-days', '2', '-extfile', file('ext')]);
    return [`tls-cert-file ${file('server.crt')}`, `tls-key-file ${file('server.key')}`, `tls-ca-cert-file ${file('ca.crt')}`, 'tls-auth-clients no'];
  }

  // Kills the server (its keys are gone: no persistence).
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  // Stops the server without closing a connection (SIGSTOP): to its clients, a network
  // partition. thaw() lets it go on.
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

// Waits until `condition` holds, checking every 20 ms, at most `ms`; false when it never did.
export async function eventually(condition: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}
