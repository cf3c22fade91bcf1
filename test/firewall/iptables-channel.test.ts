import { afterEach, describe, expect, it, vi } from 'vitest';
import { RestoreProcessChannel, type IptablesChannel, type RestoreProcess, type RuleChange } from '../../src/firewall/iptables-channel.js';
import { IptablesBackend } from '../../src/firewall/iptables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { FIREWALL_CONFIG, grantOf } from '../helpers/firewall-config.js';
import { recorder } from '../helpers/recorder.js';

const MISSING = 'Bad rule (does a matching rule exist in that chain?).';

// The chain as the kernel holds it, shared by every process a channel starts.
class FakeChain {
  rules: string[] = [];
}

// Answers like iptables-restore 1.8.9 does on a pipe: applies each block at its COMMIT, says
// nothing on success, and on a failing line prints "line N failed" and exits, block undone.
class FakeRestore implements RestoreProcess {
  readonly lines: string[] = [];
  killed = false;
  private read = 0;
  private applied = true;
  private block: string[] = [];
  private dead = false;
  private stderr: ((text: string) => void) | undefined;
  private exit: ((reason: string) => void) | undefined;

  constructor(private readonly chain: FakeChain, private readonly behaviour: { fails?: (line: string) => string | undefined; hangs?: boolean }) {}

  write(text: string): void {
    if (this.dead) return;
    this.applied = false;
    // Read and applied a little later, as a real process does after being woken.
    setImmediate(() => this.consume(text.split('\n').filter((line) => line !== '')));
  }

  settled(): boolean {
    return this.applied && !this.dead;
  }

  end(): void {
    this.die('exit status 0');
  }

  kill(): void {
    this.killed = true;
    this.die('killed by SIGKILL');
  }

  die(reason: string, said?: string): void {
    if (this.dead) return;
    this.dead = true;
    if (said !== undefined) this.stderr?.(said);
    queueMicrotask(() => this.exit?.(reason));
  }

  onStderr(listener: (text: string) => void): void {
    this.stderr = listener;
  }

  onExit(listener: (reason: string) => void): void {
    this.exit = listener;
  }

  private consume(lines: string[]): void {
    if (this.dead || this.behaviour.hangs) return;
    for (const line of lines) {
      this.read++;
      this.lines.push(line);
      const why = this.behaviour.fails?.(line) ?? (line.startsWith('-D ') && !this.has(line.slice(3)) ? MISSING : undefined);
      if (why !== undefined) {
        this.die('exit status 1', `iptables-restore: line ${this.read} failed: ${why}\n`);
        return;
      }
      if (line === 'COMMIT') this.commit();
      else if (line !== '*filter') this.block.push(line);
    }
    this.applied = true;
  }

  // In the chain, or inserted earlier in the block being read.
  private has(rule: string): boolean {
    const inserted = this.block.filter((line) => line.startsWith('-I ')).map((line) => line.slice(3).replace(/ \d+ /, ' '));
    return this.chain.rules.includes(rule) || inserted.includes(rule);
  }

  private commit(): void {
    for (const line of this.block.splice(0)) {
      const [op = '', chain = '', ...rest] = line.split(' ');
      if (op === '-I') this.chain.rules.push(`${chain} ${rest.slice(1).join(' ')}`);
      else this.chain.rules.splice(this.chain.rules.indexOf(`${chain} ${rest.join(' ')}`), 1);
    }
  }
}

function fakeChannel(behaviour: ConstructorParameters<typeof FakeRestore>[1] = {}, chain = new FakeChain()): { channel: RestoreProcessChannel; spawned: FakeRestore[]; chain: FakeChain; reads: number[] } {
  const spawned: FakeRestore[] = [];
  const reads: number[] = [];
  const channel = new RestoreProcessChannel({
    chain: 'KW',
    readInstalled: async () => {
      reads.push(1);
      return new Set(chain.rules.map((rule) => rule.split(' ')[1] ?? ''));
    },
    spawn: (command) => {
      expect(command).toEqual(['iptables-restore', '--noflush', '-w']);
      const process = new FakeRestore(chain, spawned.length === 0 ? behaviour : {});
      spawned.push(process);
      return process;
    },
  });
  channel.installed(new Set());
  return { channel, spawned, chain, reads };
}

// The rule of address `src` (its key is the address itself).
const insert = (src: string): RuleChange => ({ key: src, rule: [src, '-j', 'ACCEPT'], insertAt: 1 });
const remove = (src: string): RuleChange => ({ key: src, rule: [src, '-j', 'ACCEPT'] });
// Each send's outcome: "ok" or its error message.
const outcome = (sent: Promise<void>): Promise<string> => sent.then(() => 'ok', (error: Error) => error.message);

describe('iptables channel against a fake iptables-restore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends one change at once and merges the changes that arrive meanwhile into one block', async () => {
    const { channel, spawned, chain } = fakeChannel();
    const outcomes = await Promise.all([channel.send([insert('a')]), channel.send([insert('b'), insert('c')]), channel.send([insert('d')])].map(outcome));
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(spawned.map((process) => process.lines)).toEqual([[
      '*filter', '-I KW 1 a -j ACCEPT', 'COMMIT',
      '*filter', '-I KW 1 b -j ACCEPT', '-I KW 1 c -j ACCEPT', '-I KW 1 d -j ACCEPT', 'COMMIT',
    ]]);
    expect(chain.rules).toEqual(['KW a -j ACCEPT', 'KW b -j ACCEPT', 'KW c -j ACCEPT', 'KW d -j ACCEPT']);
  });

  it('starts iptables-restore when warmed, before any change, and the first change goes through that process', async () => {
    const { channel, spawned } = fakeChannel();
    channel.warm();
    channel.warm();
    expect(spawned).toHaveLength(1);
    expect(await outcome(channel.send([insert('a')]))).toBe('ok');
    expect(spawned.map((process) => process.lines)).toEqual([['*filter', '-I KW 1 a -j ACCEPT', 'COMMIT']]);
  });

  it('fails only the change whose line failed in a merged block, and applies the others through a new process', async () => {
    const { channel, spawned, chain } = fakeChannel({ fails: (line) => (line.includes(' c ') ? 'Index of insertion too big.' : undefined) });
    const outcomes = await Promise.all([channel.send([insert('a')]), channel.send([insert('b')]), channel.send([insert('c')]), channel.send([insert('d')])].map(outcome));
    expect(outcomes).toEqual(['ok', 'ok', 'iptables-restore --noflush -w: line 6 failed: Index of insertion too big.', 'ok']);
    expect(spawned.map((process) => process.lines)).toEqual([
      ['*filter', '-I KW 1 a -j ACCEPT', 'COMMIT', '*filter', '-I KW 1 b -j ACCEPT', '-I KW 1 c -j ACCEPT'],
      ['*filter', '-I KW 1 b -j ACCEPT', '-I KW 1 d -j ACCEPT', 'COMMIT'],
    ]);
    expect(chain.rules).toEqual(['KW a -j ACCEPT', 'KW b -j ACCEPT', 'KW d -j ACCEPT']);
  });

  it('fails the change in flight when the process dies, with what it said, and starts a new one that reads the chain back first', async () => {
    const chain = new FakeChain();
    const { channel, spawned, reads } = fakeChannel({ hangs: true }, chain);
    const first = outcome(channel.send([insert('a')]));
    await new Promise((resolve) => setImmediate(resolve));
    spawned[0]?.die('killed by SIGSEGV', 'Segmentation fault\n');
    expect(await first).toBe('iptables-restore --noflush -w: exited (killed by SIGSEGV): Segmentation fault');
    // Whether `a` went in is not known: the chain is read back, and `a` goes again.
    expect(await outcome(channel.send([insert('a'), remove('b')]))).toBe('ok');
    expect(reads).toEqual([1]);
    expect(spawned.map((process) => process.lines)).toEqual([[], ['*filter', '-I KW 1 a -j ACCEPT', 'COMMIT']]);
    expect(chain.rules).toEqual(['KW a -j ACCEPT']);
  });

  it('kills a process that does not take its input within the time limit and fails that change', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { channel, spawned } = fakeChannel({ hangs: true });
    const sent = outcome(channel.send([insert('a')]));
    await vi.advanceTimersByTimeAsync(4999);
    expect(spawned[0]?.killed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await sent).toBe('iptables-restore --noflush -w: timed out after 5000 ms');
    expect(spawned[0]?.killed).toBe(true);
  });

  it('never inserts a rule it knows is there, and writes nothing for a delete of one it knows is not', async () => {
    const { channel, spawned } = fakeChannel();
    channel.installed(new Set(['a']));
    expect(await Promise.all([channel.send([insert('a')]), channel.send([remove('b')])].map(outcome))).toEqual(['ok', 'ok']);
    expect(spawned).toEqual([]);
  });

  it('takes a delete of a rule already gone as done, and applies the rest of its block', async () => {
    const { channel, spawned, chain } = fakeChannel();
    // Known as installed, but someone deleted `a` meanwhile.
    channel.installed(new Set(['a']));
    const outcomes = await Promise.all([channel.send([insert('x')]), channel.send([remove('a'), insert('b')]), channel.send([insert('c')])].map(outcome));
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(spawned.map((process) => process.lines)).toEqual([
      ['*filter', '-I KW 1 x -j ACCEPT', 'COMMIT', '*filter', '-D KW a -j ACCEPT'],
      ['*filter', '-I KW 1 b -j ACCEPT', '-I KW 1 c -j ACCEPT', 'COMMIT'],
    ]);
    expect(chain.rules).toEqual(['KW x -j ACCEPT', 'KW b -j ACCEPT', 'KW c -j ACCEPT']);
    // And it is known gone now: deleting it again writes nothing.
    await channel.send([remove('a')]);
    expect(spawned).toHaveLength(2);
  });

  it('fails a delete refused as missing when the block itself inserted the rule, instead of trying again forever', async () => {
    const { channel, spawned } = fakeChannel({ fails: (line) => (line.startsWith('-D ') ? MISSING : undefined) });
    const outcomes = await Promise.all([channel.send([insert('z')]), channel.send([insert('a')]), channel.send([remove('a')])].map(outcome));
    expect(outcomes).toEqual(['ok', 'ok', `iptables-restore --noflush -w: line 6 failed: ${MISSING}`]);
    expect(spawned).toHaveLength(2);
  });

  it('keeps a rule known as installed when its delete is refused for another reason, and deletes it on the next try', async () => {
    const chain = new FakeChain();
    chain.rules.push('KW a -j ACCEPT');
    const refusal = "Couldn't load match `comment':No such file or directory";
    const { channel, spawned } = fakeChannel({ fails: (line) => (line.startsWith('-D ') ? refusal : undefined) }, chain);
    channel.installed(new Set(['a']));
    expect(await outcome(channel.send([remove('a')]))).toBe(`iptables-restore --noflush -w: line 2 failed: ${refusal}`);
    // Not taken as gone: the next close writes its delete again, and it goes through.
    expect(await outcome(channel.send([remove('a')]))).toBe('ok');
    expect(spawned.map((process) => process.lines)).toEqual([['*filter', '-D KW a -j ACCEPT'], ['*filter', '-D KW a -j ACCEPT', 'COMMIT']]);
    expect(chain.rules).toEqual([]);
  });

  it('counts a failing line from the first line of the process in force, after a restart too', async () => {
    const { channel, spawned, chain } = fakeChannel();
    // Known as installed, but someone deleted both meanwhile.
    channel.installed(new Set(['gone1', 'gone2']));
    expect(await outcome(channel.send([insert('a'), remove('gone1')]))).toBe('ok');
    expect(await outcome(channel.send([insert('b'), remove('gone2'), insert('c')]))).toBe('ok');
    expect(spawned.map((process) => process.lines)).toEqual([
      ['*filter', '-I KW 1 a -j ACCEPT', '-D KW gone1 -j ACCEPT'],
      ['*filter', '-I KW 1 a -j ACCEPT', 'COMMIT', '*filter', '-I KW 1 b -j ACCEPT', '-D KW gone2 -j ACCEPT'],
      ['*filter', '-I KW 1 b -j ACCEPT', '-I KW 1 c -j ACCEPT', 'COMMIT'],
    ]);
    expect(chain.rules).toEqual(['KW a -j ACCEPT', 'KW b -j ACCEPT', 'KW c -j ACCEPT']);
  });

  it('fails a send whose block is refused at its COMMIT, and writes it no more', async () => {
    const { channel, spawned, chain } = fakeChannel({ fails: (line) => (line === 'COMMIT' ? 'Resource temporarily unavailable' : undefined) });
    expect(await outcome(channel.send([insert('a')]))).toBe('iptables-restore --noflush -w: line 3 failed: Resource temporarily unavailable');
    expect(spawned).toHaveLength(1);
    expect(chain.rules).toEqual([]);
  });

  it('applies a ban and its unban that arrive together in order', async () => {
    const { channel, spawned, chain } = fakeChannel();
    await Promise.all([channel.send([insert('z')]), channel.send([insert('a')]), channel.send([remove('a')])]);
    expect(spawned[0]?.lines.slice(3)).toEqual(['*filter', '-I KW 1 a -j ACCEPT', '-D KW a -j ACCEPT', 'COMMIT']);
    expect(chain.rules).toEqual(['KW z -j ACCEPT']);
  });

  it('fails the changes when the installed rules cannot be read back', async () => {
    const channel = new RestoreProcessChannel({ chain: 'KW', readInstalled: async () => Promise.reject(new Error('iptables -w -S KW: exit status 4')) });
    expect(await outcome(channel.send([insert('a')]))).toBe('iptables-restore --noflush -w: the installed rules could not be read back: iptables -w -S KW: exit status 4');
  });

  it('refuses a word with a line break', async () => {
    const { channel, spawned } = fakeChannel();
    expect(await outcome(channel.send([{ key: 'a', rule: ['a\nCOMMIT'], insertAt: 1 }]))).toBe('iptables channel: expected words without line breaks, found "a\\nCOMMIT"');
    expect(spawned).toEqual([]);
  });
});

describe('iptables backend through its channels', () => {
  // Records each send per family.
  const recordingChannel = (): IptablesChannel & { sent: RuleChange[][]; known: (ReadonlySet<string> | undefined)[]; stopped: number } => {
    const channel = {
      sent: [] as RuleChange[][],
      known: [] as (ReadonlySet<string> | undefined)[],
      stopped: 0,
      send: async (changes: readonly RuleChange[]) => {
        channel.sent.push([...changes]);
      },
      installed: (keys: ReadonlySet<string> | undefined) => {
        channel.known.push(keys);
      },
      stop: async () => {
        channel.stopped++;
      },
    };
    return channel;
  };

  it('sends each open, close, ban and unban as one send to its family\'s channel, nothing through the runner', async () => {
    const { runner, calls } = recorder();
    const channels = { 4: recordingChannel(), 6: recordingChannel() };
    const backend = new IptablesBackend(buildFirewallPlan(FIREWALL_CONFIG), runner, undefined, channels);
    await backend.open(grantOf('203.0.113.7', 'web'));
    await backend.close(grantOf('2001:db8::7'));
    await backend.ban({ src: '203.0.113.9', until: 1 });
    await backend.unban('203.0.113.9');
    await backend.release();
    const web = (port: number): string[] => ['-s', '203.0.113.7/32', '-p', 'tcp', '-m', 'tcp', '--dport', String(port), '-m', 'comment', '--comment', 'knockwatch:web', '-j', 'ACCEPT'];
    const ban = ['-s', '203.0.113.9/32', '-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-m', 'comment', '--comment', 'knockwatch:ban', '-j', 'DROP'];
    expect(channels[4].sent).toEqual([
      [{ key: 'grant web 203.0.113.7 tcp/443', rule: web(443), insertAt: 6 }, { key: 'grant web 203.0.113.7 tcp/8443', rule: web(8443), insertAt: 6 }],
      [{ key: 'ban 203.0.113.9', rule: ban, insertAt: 6 }],
      [{ key: 'ban 203.0.113.9', rule: ban }],
    ]);
    expect(channels[6].sent).toEqual([[{ key: 'grant openSSH 2001:db8::7 tcp/22', rule: ['-s', '2001:db8::7/128', '-p', 'tcp', '-m', 'tcp', '--dport', '22', '-m', 'comment', '--comment', 'knockwatch:openSSH', '-j', 'ACCEPT'] }]]);
    expect(calls).toEqual([]);
    expect([channels[4].stopped, channels[6].stopped]).toEqual([1, 1]);
  });

  it('tells each channel the grant and ban rules start() read back', async () => {
    const listing = '-N KNOCKWATCH\n-A KNOCKWATCH -s 203.0.113.7/32 -p tcp -m tcp --dport 22 -m comment --comment "knockwatch:openSSH" -j ACCEPT\n';
    const { runner } = recorder((line) => (line.startsWith('iptables -w -S KNOCKWATCH') ? { stdout: listing } : line.startsWith('ip6tables -w -S') ? { failed: true } : undefined));
    const channels = { 4: recordingChannel(), 6: recordingChannel() };
    await new IptablesBackend(buildFirewallPlan(FIREWALL_CONFIG), runner, undefined, channels).start([], 0);
    expect(channels[4].known).toEqual([new Set(['grant openSSH 203.0.113.7 tcp/22'])]);
    expect(channels[6].known).toEqual([undefined]);
  });
});
