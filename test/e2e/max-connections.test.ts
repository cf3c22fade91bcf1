import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/access/grant-table.js';
import type { FirewallBackend } from '../../src/firewall/backend.js';
import { execaRunner, type CommandRunner } from '../../src/firewall/command-runner.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { config } from '../helpers/engine.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

// max_connections for real, no daemon: the ruleset goes in with a grant for the client's
// address, and the listener in the server namespace sees N concurrent connections through,
// never N+1. Closing the grant stops new connections only: the N held ones still talk.
const missing = missingPrerequisites(['ip', 'nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore'], true);
explainSkip('end-to-end max_connections tests', missing);

const SERVER = 'kwd8-test';
const CLIENT = 'kwd8-test-cli';
const MAX = 2;
const SERVER_ADDRESS = { 4: '10.213.1.1', 6: 'fd00:213:1::1' };
const CLIENT_ADDRESS = { 4: '10.213.1.2', 6: 'fd00:213:1::2' };
const CONNECT_TIMEOUT_MS = 1000;

// Holds every connection and echoes what comes in.
const ECHO_SERVER = `
import net from 'node:net';
net.createServer((socket) => { socket.on('error', () => {}); socket.pipe(socket); })
  .listen(22, '::', () => process.stdout.write('listening\\n'));
`;

// Opens argv[3] connections to argv[1]:argv[2] one after the other and keeps those that
// connect; prints what each did. On "ping" from stdin, prints how many held ones echo it.
const HOLDING_CLIENT = `
import net from 'node:net';
import { createInterface } from 'node:readline';
const [host, port, count, timeout] = process.argv.slice(1);
const held = [];
const results = [];
for (let i = 0; i < Number(count); i++) {
  results.push(await new Promise((done) => {
    const socket = net.connect({ host, port: Number(port) });
    const timer = setTimeout(() => { socket.destroy(); done('timeout'); }, Number(timeout));
    socket.on('connect', () => { clearTimeout(timer); held.push(socket); done('connected'); });
    socket.on('error', (error) => { clearTimeout(timer); done(error.code); });
  }));
}
process.stdout.write(JSON.stringify(results) + '\\n');
createInterface({ input: process.stdin }).on('line', async () => {
  const echoed = await Promise.all(held.map((socket) => new Promise((done) => {
    const timer = setTimeout(() => done(false), 1000);
    socket.once('data', () => { clearTimeout(timer); done(true); });
    socket.write('ping\\n');
  })));
  process.stdout.write(JSON.stringify(echoed.filter(Boolean).length) + '\\n');
}).on('close', () => { for (const socket of held) socket.destroy(); process.exit(0); });
`;

function sh(file: string, args: readonly string[]): string {
  const result = spawnSync(file, [...args], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

function inNamespace(ns: string): CommandRunner {
  return { run: (file, args, options) => execaRunner.run('ip', ['netns', 'exec', ns, file, ...args], options) };
}

// A node script in a namespace, read line by line.
class Script {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor(ns: string, source: string, args: readonly string[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', source, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.waiting !== undefined) {
        this.waiting(line);
        this.waiting = undefined;
      } else {
        this.lines.push(line);
      }
    });
  }

  async next(timeoutMs = 15_000): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return ready;
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no line from the script in time')), timeoutMs);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  stop(): void {
    this.child.stdin?.end();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

const PLAN = buildFirewallPlan(config(`[options]
log_prefix = kwd8mc
[openSSH]
sequence = 7000,8000,9000:udp
open = 22/tcp
open_for = 600
max_connections = ${MAX}
`));

const BACKENDS: Record<'nftables' | 'iptables', () => FirewallBackend> = {
  nftables: () => new NftablesBackend(PLAN, inNamespace(SERVER)),
  iptables: () => new IptablesBackend(PLAN, inNamespace(SERVER)),
};

describe.skipIf(missing.length > 0)('max_connections for real', () => {
  let server: Script | undefined;

  const teardown = (): void => {
    for (const ns of [SERVER, CLIENT]) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  };

  beforeAll(async () => {
    teardown();
    for (const ns of [SERVER, CLIENT]) {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh('ip', ['link', 'add', 'kwd8mc0', 'netns', SERVER, 'type', 'veth', 'peer', 'name', 'kwd8mc1', 'netns', CLIENT]);
    for (const [ns, side, address] of [[SERVER, 0, SERVER_ADDRESS], [CLIENT, 1, CLIENT_ADDRESS]] as const) {
      sh('ip', ['-n', ns, 'addr', 'add', `${address[4]}/24`, 'dev', `kwd8mc${side}`]);
      sh('ip', ['-n', ns, '-6', 'addr', 'add', `${address[6]}/64`, 'dev', `kwd8mc${side}`, 'nodad']);
      sh('ip', ['-n', ns, 'link', 'set', `kwd8mc${side}`, 'up']);
    }
    server = new Script(SERVER, ECHO_SERVER, []);
    expect(await server.next()).toBe('listening');
  }, 30_000);

  afterAll(() => {
    server?.stop();
    teardown();
  });

  describe.each(['nftables', 'iptables'] as const)('%s', (name) => {
    it.each([4, 6] as const)('IPv%d: N concurrent connections get through, the next does not; closing the grant keeps the N', async (family) => {
      const backend = BACKENDS[name]();
      const grant: Grant = { src: CLIENT_ADDRESS[family], door: 'openSSH', ports: [{ port: 22, proto: 'tcp' }], opened: 0, expires: 600_000 };
      const clients: Script[] = [];
      try {
        await backend.start([grant], 0);
        expect(await backend.verify([grant], 0, [])).toBe(true);
        const holding = new Script(CLIENT, HOLDING_CLIENT, [SERVER_ADDRESS[family], '22', String(MAX + 1), String(CONNECT_TIMEOUT_MS)]);
        clients.push(holding);
        expect(JSON.parse(await holding.next())).toEqual([...Array<string>(MAX).fill('connected'), 'timeout']);
        await backend.close(grant);
        // Established sessions survive the close: the firewall only stops new connections.
        holding.send('ping');
        expect(JSON.parse(await holding.next())).toBe(MAX);
        const late = new Script(CLIENT, HOLDING_CLIENT, [SERVER_ADDRESS[family], '22', '1', String(CONNECT_TIMEOUT_MS)]);
        clients.push(late);
        expect(JSON.parse(await late.next())).toEqual(['timeout']);
      } finally {
        for (const client of clients) client.stop();
        await backend.remove([]);
      }
    }, 30_000);
  });
});
