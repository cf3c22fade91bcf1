import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NftProcessChannel, type NftChannel, type NftProcess } from '../../src/firewall/nft-channel.js';
import { NftablesBackend } from '../../src/firewall/nftables.js';
import { buildFirewallPlan } from '../../src/firewall/plan.js';
import { FIREWALL_CONFIG, grantOf } from '../helpers/firewall-config.js';
import { recorder } from '../helpers/recorder.js';
import { createNamespace, type Namespace } from '../helpers/namespace.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

const NO_ELEMENT = 'Error: Could not process rule: No such file or directory';

// Answers like nft 1.0.6 does on a pipe: a failing line and every marker get "Error:", the
// line and a caret line on stderr, a line at a time, after the write returned.
class FakeNft implements NftProcess {
  readonly lines: string[] = [];
  killed = false;
  private stderr: ((text: string) => void) | undefined;
  private exit: ((reason: string) => void) | undefined;

  constructor(private readonly behaviour: { fails?: (line: string) => boolean; silent?: boolean; keepsRunning?: boolean; exitLate?: boolean }) {}

  write(text: string): void {
    for (const line of text.split('\n').filter((part) => part !== '')) {
      const marker = /^knockwatch-batch-\d+$/.test(line);
      if (!marker) this.lines.push(line);
      if (marker && this.behaviour.silent) continue;
      const error = marker ? 'Error: syntax error, unexpected newline, expecting string' : this.behaviour.fails?.(line) ? NO_ELEMENT : undefined;
      if (error !== undefined) queueMicrotask(() => this.stderr?.(`${error}\n${line}\n${' '.repeat(line.length)}^\n`));
    }
  }

  end(): void {
    if (!this.behaviour.keepsRunning) this.die('exit status 0');
  }

  kill(): void {
    this.killed = true;
    this.die('killed by SIGKILL');
  }

  die(reason: string, said?: string): void {
    if (said !== undefined) this.stderr?.(`${said}\n`);
    // A killed process's exit is reported some time later, not at once.
    if (this.behaviour.exitLate) setTimeout(() => this.exit?.(reason), 5);
    else queueMicrotask(() => this.exit?.(reason));
  }

  onStderr(listener: (text: string) => void): void {
    this.stderr = listener;
  }

  onExit(listener: (reason: string) => void): void {
    this.exit = listener;
  }
}

function fakeChannel(behaviour: ConstructorParameters<typeof FakeNft>[0] = {}): { channel: NftProcessChannel; spawned: FakeNft[] } {
  const spawned: FakeNft[] = [];
  const channel = new NftProcessChannel({
    spawn: (command) => {
      expect(command).toEqual(['nft', '-i']);
      const process = new FakeNft(behaviour);
      spawned.push(process);
      return process;
    },
  });
  return { channel, spawned };
}

// Each send's outcome: "ok" or its error message.
const outcome = (sent: Promise<void>): Promise<string> => sent.then(() => 'ok', (error: Error) => error.message);

describe('nft channel against a fake nft', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends one change at once and merges the changes that arrive meanwhile into one transaction', async () => {
    const { channel, spawned } = fakeChannel();
    const outcomes = await Promise.all([channel.send(['add a']), channel.send(['add b', 'delete b']), channel.send(['add c'])].map(outcome));
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(spawned.map((process) => process.lines)).toEqual([['add a', 'add b; delete b; add c']]);
  });

  it('starts nft when warmed, before any change, and the first change goes through that process', async () => {
    const { channel, spawned } = fakeChannel();
    channel.warm();
    channel.warm();
    expect(spawned).toHaveLength(1);
    expect(await outcome(channel.send(['add a']))).toBe('ok');
    expect(spawned.map((process) => process.lines)).toEqual([['add a']]);
  });

  it('retries each change of a failed merged transaction alone, so each caller learns its own outcome', async () => {
    const { channel, spawned } = fakeChannel({ fails: (line) => line.includes('delete b') });
    const outcomes = await Promise.all([channel.send(['add a']), channel.send(['add b', 'delete b']), channel.send(['add c'])].map(outcome));
    expect(outcomes).toEqual(['ok', `nft -i: ${NO_ELEMENT}`, 'ok']);
    expect(spawned[0]?.lines).toEqual(['add a', 'add b; delete b; add c', 'add b; delete b', 'add c']);
  });

  it('fails the change in flight when nft dies, with what it said, and starts a new nft for the next', async () => {
    const { channel, spawned } = fakeChannel({ silent: true });
    const first = outcome(channel.send(['add a']));
    spawned[0]?.die('killed by SIGSEGV', 'Error: out of memory');
    expect(await first).toBe('nft -i: exited (killed by SIGSEGV): Error: out of memory');
    // The dead one is replaced by a new process on the next change.
    const again = outcome(channel.send(['add b']));
    expect(spawned).toHaveLength(2);
    spawned[1]?.die('exit status 1');
    expect(await again).toBe('nft -i: exited (exit status 1)');
  });

  it('restarts a dead nft and the next change succeeds through it', async () => {
    const spawned: FakeNft[] = [];
    const channel = new NftProcessChannel({
      spawn: () => {
        const process = new FakeNft({ silent: spawned.length === 0 });
        spawned.push(process);
        return process;
      },
    });
    const first = outcome(channel.send(['add a']));
    spawned[0]?.die('killed by SIGKILL');
    expect(await first).toBe('nft -i: exited (killed by SIGKILL)');
    expect(await outcome(channel.send(['add b']))).toBe('ok');
    expect(spawned.map((process) => process.lines)).toEqual([['add a'], ['add b']]);
  });

  it('kills an nft that does not answer within the time limit and fails that change', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { channel, spawned } = fakeChannel({ silent: true });
    const sent = outcome(channel.send(['add a']));
    await vi.advanceTimersByTimeAsync(4999);
    expect(spawned[0]?.killed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await sent).toBe('nft -i: timed out after 5000 ms');
    expect(spawned[0]?.killed).toBe(true);
  });

  it('sends the change queued behind a timed-out batch to a new nft, not to the one being killed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const spawned: FakeNft[] = [];
    const channel = new NftProcessChannel({
      spawn: () => {
        const process = new FakeNft(spawned.length === 0 ? { silent: true, exitLate: true } : {});
        spawned.push(process);
        return process;
      },
    });
    const first = outcome(channel.send(['add a']));
    const second = outcome(channel.send(['add b']));
    await vi.advanceTimersByTimeAsync(5000);
    expect(await first).toBe('nft -i: timed out after 5000 ms');
    await vi.advanceTimersByTimeAsync(10);
    expect(await second).toBe('ok');
    expect(spawned.map((process) => process.lines)).toEqual([['add a'], ['add b']]);
  });

  it('lets the late exit of a timed-out nft say nothing about the batch in flight on the next one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { channel, spawned } = fakeChannel({ silent: true, exitLate: true });
    const first = outcome(channel.send(['add a']));
    const second = outcome(channel.send(['add b']));
    await vi.advanceTimersByTimeAsync(5000);
    expect(await first).toBe('nft -i: timed out after 5000 ms');
    // The first nft's exit is reported 5 ms later, while `add b` waits for the second one.
    await vi.advanceTimersByTimeAsync(5000);
    expect(await second).toBe('nft -i: timed out after 5000 ms');
    expect(spawned.map((process) => process.killed)).toEqual([true, true]);
  });

  it('fails every change of a merged transaction when nft dies under it, without trying each alone', async () => {
    const spawned: FakeNft[] = [];
    const channel = new NftProcessChannel({
      timeout: 100,
      spawn: () => {
        const process = new FakeNft({ silent: true });
        spawned.push(process);
        return process;
      },
    });
    const first = outcome(channel.send(['add a']));
    const merged = [channel.send(['add b']), channel.send(['add c'])].map(outcome);
    spawned[0]?.die('killed by SIGKILL');
    expect(await first).toBe('nft -i: exited (killed by SIGKILL)');
    while (spawned.length < 2) await new Promise((resolve) => setImmediate(resolve));
    spawned[1]?.die('killed by SIGKILL');
    expect(await Promise.all(merged)).toEqual(['nft -i: exited (killed by SIGKILL)', 'nft -i: exited (killed by SIGKILL)']);
    expect(spawned.map((process) => process.lines)).toEqual([['add a'], ['add b; add c']]);
  });

  it('stop closes nft\'s input, and kills it when it keeps running', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const polite = fakeChannel();
    await polite.channel.send(['add a']);
    await polite.channel.stop();
    expect(polite.spawned[0]?.killed).toBe(false);
    const stubborn = fakeChannel({ keepsRunning: true });
    await stubborn.channel.send(['add a']);
    const stopped = stubborn.channel.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await stopped;
    expect(stubborn.spawned[0]?.killed).toBe(true);
  });

  it('refuses a command of more than one line', async () => {
    const { channel, spawned } = fakeChannel();
    expect(await outcome(channel.send(['add a\ndelete a']))).toBe('nft channel: expected one line per command, found "add a\\ndelete a"');
    expect(spawned).toEqual([]);
  });
});

describe('nftables backend through its channel', () => {
  // Records each send as one batch; fails those `fails` picks.
  const recordingChannel = (fails: (commands: readonly string[]) => boolean = () => false): NftChannel & { sent: string[][]; stopped: number } => {
    const channel = {
      sent: [] as string[][],
      stopped: 0,
      send: async (commands: readonly string[]) => {
        channel.sent.push([...commands]);
        if (fails(commands)) throw new Error(`nft -i: ${NO_ELEMENT}`);
      },
      stop: async () => {
        channel.stopped++;
      },
    };
    return channel;
  };

  it('sends each open, extend, close, ban and unban as one batch, nothing through the runner', async () => {
    const { runner, calls } = recorder();
    const channel = recordingChannel();
    const backend = new NftablesBackend(buildFirewallPlan(FIREWALL_CONFIG), runner, 'nft', channel);
    await backend.open(grantOf('203.0.113.7'), 1000);
    await backend.extend(grantOf('203.0.113.7', 'openSSH', 61_000), 2000);
    await backend.close(grantOf('2001:db8::7'));
    await backend.ban({ src: '203.0.113.9', until: 61_000 }, 1000);
    await backend.unban('203.0.113.9');
    await backend.stop([]);
    const set = 'inet knockwatch grant4_0';
    expect(channel.sent).toEqual([
      [`add element ${set} { 203.0.113.7 timeout 30000ms }`],
      [`add element ${set} { 203.0.113.7 }`, `delete element ${set} { 203.0.113.7 }`, `add element ${set} { 203.0.113.7 timeout 59000ms }`],
      ['add element inet knockwatch grant6_0 { 2001:db8::7 }', 'delete element inet knockwatch grant6_0 { 2001:db8::7 }'],
      ['add element inet knockwatch banned4 { 203.0.113.9 }', 'delete element inet knockwatch banned4 { 203.0.113.9 }', 'add element inet knockwatch banned4 { 203.0.113.9 timeout 60000ms }'],
      ['add element inet knockwatch banned4 { 203.0.113.9 }', 'delete element inet knockwatch banned4 { 203.0.113.9 }'],
    ]);
    expect(calls).toEqual([]);
    expect(channel.stopped).toBe(1);
  });

  it('rejects a change with the channel\'s error for it', async () => {
    const channel = recordingChannel((commands) => commands.some((command) => command.includes('203.0.113.8')));
    const backend = new NftablesBackend(buildFirewallPlan(FIREWALL_CONFIG), recorder().runner, 'nft', channel);
    await backend.open(grantOf('203.0.113.7'), 1000);
    await expect(backend.open(grantOf('203.0.113.8'), 1000)).rejects.toThrow(`nft -i: ${NO_ELEMENT}`);
  });
});

// Real nft -i in a private network namespace of this suite's own.
const missing = missingPrerequisites(['nft', 'ip'], true);
explainSkip('nft channel against real nft', missing);

describe.skipIf(missing.length > 0)('nft channel against real nft', () => {
  let ns: Namespace;
  let channel: NftProcessChannel;
  beforeAll(() => {
    ns = createNamespace(`kwch-${process.pid}`);
    ns.exec('nft', ['add table inet kt; add set inet kt s4 { type ipv4_addr; flags timeout; }']);
    channel = new NftProcessChannel({ command: ['ip', 'netns', 'exec', ns.name, 'nft', '-i'] });
  });
  afterAll(async () => {
    await channel?.stop();
    ns?.remove();
  });

  const addresses = Array.from({ length: 100 }, (_, i) => `10.1.0.${i + 1}`);
  const listed = (): string[] => {
    const set = JSON.parse(ns.exec('nft', ['-j', 'list', 'set', 'inet', 'kt', 's4'])) as { nftables: { set?: { elem?: (string | { elem: { val: string } })[] } }[] };
    const elems = set.nftables.find((item) => item.set !== undefined)?.set?.elem ?? [];
    return elems.map((elem) => (typeof elem === 'string' ? elem : elem.elem.val)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  };

  it('applies 100 adds and 100 deletes, sent all at once', async () => {
    const adds = await Promise.all(addresses.map((src) => outcome(channel.send([`add element inet kt s4 { ${src} timeout 1h }`]))));
    expect(adds).toEqual(addresses.map(() => 'ok'));
    expect(listed()).toEqual(addresses);
    const deletes = await Promise.all(addresses.slice(50).map((src) => outcome(channel.send([`delete element inet kt s4 { ${src} }`]))));
    expect(deletes).toEqual(addresses.slice(50).map(() => 'ok'));
    expect(listed()).toEqual(addresses.slice(0, 50));
  });

  it('fails a bad change with nft\'s error, leaves it undone, and the next one succeeds', async () => {
    const bad = outcome(channel.send(['add element inet kt s4 { 10.2.0.1 }', 'delete element inet kt s4 { 10.2.0.99 }']));
    const good = outcome(channel.send(['add element inet kt s4 { 10.2.0.2 }']));
    expect(await Promise.all([bad, good])).toEqual([`ip netns exec ${ns.name} nft -i: ${NO_ELEMENT}`, 'ok']);
    expect(await outcome(channel.send(['add element inet kt s4 { 10.2.0.3 }']))).toBe('ok');
    expect(listed().filter((src) => src.startsWith('10.2.'))).toEqual(['10.2.0.2', '10.2.0.3']);
  });
});
