import type { FirewallBackend } from '../firewall/backend.js';
import type { Clock } from './clock.js';
import { logEvents, type LogEvent } from './log-events.js';
import type { Pipeline } from './pipeline.js';

// A flushed table or a deleted rule is put back within this (plus one tick).
export const VERIFY_EVERY = 2000;

export interface VerifyDeps {
  clock: Clock;
  emit: (event: LogEvent) => void;
  pipeline: () => Pipeline;
  backend: () => FirewallBackend;
  // Runs the check alone, between two firewall changes.
  exclusive: (work: () => Promise<void>) => Promise<void>;
}

// Compares what is installed with what should be, every VERIFY_EVERY and one check at a
// time, and puts knockwatch's piece back when someone flushed it or deleted a rule.
export class FirewallVerifier {
  // The last comparison of the installed ruleset with what should be there.
  last: { at: number; ok: boolean } | undefined;
  private next = Infinity;
  private running = false;
  // Set when a stop or rollback begins: a check still queued must not reinstall then.
  private ending = false;

  constructor(private readonly deps: VerifyDeps) {}

  // The ruleset was just installed: the first check is due VERIFY_EVERY later.
  installed(now: number): void {
    this.next = now + VERIFY_EVERY;
  }

  end(): void {
    this.ending = true;
  }

  tick(now: number): void {
    if (now < this.next || this.running) return;
    this.next = now + VERIFY_EVERY;
    void this.verify();
  }

  async verify(): Promise<void> {
    this.running = true;
    const { clock, emit } = this.deps;
    try {
      // Most checks find everything in place: that much is read without holding back the
      // grants and bans queued meanwhile (a knock must not wait ~10 ms for nft's listing).
      if (await this.looksRight()) return;
      await this.deps.exclusive(async () => {
        const backend = this.deps.backend();
        const pipeline = this.deps.pipeline();
        const now = clock.now();
        const grants = pipeline.grants();
        const bans = pipeline.bans();
        if (this.ending) return;
        const ok = await backend.verify(grants, now, bans);
        this.last = { at: now, ok };
        if (ok || this.ending) return;
        emit(logEvents.firewallMissing(backend.name));
        await backend.start(grants, clock.now(), bans);
      });
    } catch (error) {
      this.last = { at: clock.now(), ok: false };
      emit(logEvents.firewallFailed('repair', (error as Error).message));
    } finally {
      this.running = false;
    }
  }

  private async looksRight(): Promise<boolean> {
    const backend = this.deps.backend();
    if (backend.check === undefined || this.ending) return false;
    const pipeline = this.deps.pipeline();
    const now = this.deps.clock.now();
    const ok = await backend.check(pipeline.grants(), now, pipeline.bans());
    if (ok) this.last = { at: now, ok };
    return ok;
  }
}
