import type { Decision } from '../engine/decisions.js';
import type { FirewallBackend } from '../firewall/backend.js';
import type { Grant } from '../access/grant-table.js';
import type { Clock } from './clock.js';
import { CommandJournal } from './command-journal.js';
import { FirewallQueue, type FirewallChange } from './firewall-queue.js';
import { FirewallVerifier } from './firewall-verify.js';
import { logEvents, type LogEvent } from './log-events.js';
import type { Pipeline } from './pipeline.js';
import type { RestoreResult } from './restore-state.js';
import { StartError } from './preflight.js';
import { emptyState, toSavedGrant, type DaemonState, type SavedGrant } from './state-file.js';

export interface FirewallSyncDeps {
  clock: Clock;
  emit: (event: LogEvent) => void;
  // The pipeline and config in force (a reload replaces both).
  pipeline: () => Pipeline;
  configFile: () => string;
  portsOf: (door: string) => Grant['ports'];
  // Grants, bans or owed commands changed: the state file is due.
  changed: () => void;
  // Writes the state file now; false when that failed.
  save: () => boolean;
  // When the knock ports of the config in force change next (a rotating door's window
  // turns), in ms; Infinity when they never do.
  nextTurn?: (now: number) => number;
}

// Keeps the firewall in step with the pipeline's decisions: each decision becomes a queued
// change (retried while still wanted), the installed ruleset is verified and repaired, and
// commands that a reinstall cannot undo are journaled.
export class FirewallSync {
  backend!: FirewallBackend;
  private journal = new CommandJournal(emptyState());
  private readonly queue: FirewallQueue;
  private readonly verifier: FirewallVerifier;
  // While an exclusive piece of work runs through exclusiveApplied: the first try of every
  // change it queues.
  private collecting: Promise<boolean>[] | undefined;
  // When the ruleset is installed again with the knock ports of the new window.
  private turnAt = Infinity;
  // Per address and door, which grant its open and extend changes are for (a number per
  // grant opened); a close ends it.
  private readonly granted = new Map<string, number>();
  private grantCount = 0;

  constructor(private readonly deps: FirewallSyncDeps) {
    this.queue = new FirewallQueue(deps.emit);
    this.verifier = new FirewallVerifier({ ...deps, backend: () => this.backend, exclusive: async (work) => await this.queue.exclusive(work) });
  }

  // The backend of the config in force; at start, also what the state file says its
  // commands did.
  use(backend: FirewallBackend, saved?: DaemonState): void {
    this.backend = backend;
    if (saved !== undefined) this.journal = new CommandJournal(saved);
    this.turnAt = this.deps.nextTurn?.(this.deps.clock.now()) ?? Infinity;
  }

  // Installs everything with the pipeline's grants and bans; a failure is a StartError, and
  // what was not there before goes again (half of it may be in: IPv4 done, IPv6 failed).
  // Then `read` starts reading knocks: a gate with nothing reading them locks everyone out,
  // so when it says why it cannot, everything goes again and the start fails. Then bans the
  // config whitelists are lifted, and owed commands run.
  async install(now: number, restored: Pick<RestoreResult, 'liftedBans' | 'dropped'>, read: () => string | undefined = () => undefined): Promise<void> {
    const pipeline = this.deps.pipeline();
    const existed = await this.backend.exists();
    try {
      await this.backend.start(pipeline.grants(), now, pipeline.bans());
    } catch (error) {
      if (!existed) await this.backend.remove([]).catch(() => undefined);
      throw new StartError([{ kind: 'runtime', message: `the ${this.backend.name} ruleset did not install: ${(error as Error).message}` }]);
    }
    const unread = read();
    if (unread !== undefined) {
      await this.removeAll();
      throw new StartError([{ kind: 'runtime', message: `${unread} (the ${this.backend.name} ruleset was taken out again)` }]);
    }
    this.verifier.installed(now);
    this.deps.emit(logEvents.firewallInstalled(this.backend.name, pipeline.grants().length));
    await this.removeOtherKind();
    this.liftBans(restored.liftedBans);
    this.catchUp(restored.dropped);
  }

  get pending(): number {
    return this.queue.pending;
  }

  // Decisions become firewall changes; what a change means for the user ("Opened ...") is
  // logged once it is in force, not before.
  apply(decision: Decision): void {
    const announce = (): void => {
      const event = logEvents.decision(decision);
      if (event) this.deps.emit(event);
    };
    switch (decision.type) {
      case 'open':
      case 'extend':
        this.deps.changed();
        this.open(decision.type, decision.src, decision.door, announce);
        break;
      case 'close':
      case 'expire':
        this.deps.changed();
        this.close(decision.src, decision.door, announce);
        break;
      case 'banned': {
        this.deps.changed();
        const ban = { src: decision.src, until: decision.until };
        // This ban: a later one of the address (its end in an nft element) has its own change.
        this.run(`ban of ${ban.src}`, () => this.backend.ban(ban, this.deps.clock.now()),
          () => this.deps.pipeline().bannedUntil(ban.src, this.deps.clock.now()) === ban.until, announce);
        break;
      }
      case 'unbanned':
        this.deps.changed();
        this.run(`unban of ${decision.src}`, () => this.backend.unban(decision.src),
          () => this.deps.pipeline().bannedUntil(decision.src, this.deps.clock.now()) === undefined, announce);
        break;
      default:
        announce();
        break;
    }
  }

  // Bans a whitelist now covers: gone from the state, and from the firewall too.
  liftBans(addresses: readonly string[]): void {
    for (const src of addresses) {
      this.deps.emit(logEvents.banLifted(src));
      // Whitelisted now, the address is never banned again: the unban is always still wanted.
      this.run(`unban of ${src}`, () => this.backend.unban(src), () => true);
    }
  }

  // After a restart with commands: stop commands owed (grants closed or expired while down)
  // run, and start commands of grants recorded but never begun run once.
  private catchUp(dropped: readonly SavedGrant[]): void {
    if (!this.backend.runsCommands) return;
    for (const grant of dropped) this.journal.closeBegun(grant);
    for (const owed of this.journal.pendingCloses()) this.close(owed.src, owed.door, () => undefined);
    for (const grant of this.deps.pipeline().grants()) {
      if (!this.journal.wasStarted(grant.src, grant.door)) this.open('open', grant.src, grant.door, () => undefined);
    }
  }

  // A reload removed these grants' doors: a reinstall takes them out, commands must be run.
  async closeRemoved(grants: readonly Grant[]): Promise<void> {
    if (this.backend.runsCommands) await this.closeCommands(grants);
  }

  // On a clean exit, after the changes queued so far: what must not outlive the daemon goes
  // (a failure is logged), grants that do not expire by themselves are forgotten, the state
  // file is written.
  async stopGrants(): Promise<void> {
    const grants = await this.drain();
    try {
      if (this.backend.runsCommands) await this.closeCommands(grants);
      else await this.backend.stop(grants);
    } catch (error) {
      this.deps.emit(logEvents.firewallStopFailed((error as Error).message));
    }
    // What the firewall does not expire by itself was closed just now: not opened again at the
    // next start (a grant until closed under nftables too).
    this.forget(grants.filter((grant) => !this.backend.endsItself(grant)));
    this.deps.save();
  }

  // `knockwatch try` without its proof: everything installed goes, grants are forgotten (log
  // positions are kept).
  async removeAll(): Promise<void> {
    const grants = await this.drain();
    try {
      if (this.backend.runsCommands) await this.closeCommands(grants);
      await this.backend.remove(this.backend.runsCommands ? [] : grants);
    } finally {
      this.forget(grants);
      this.deps.save();
    }
  }

  // Verifies the installed ruleset now and then (see FirewallVerifier).
  tick(now: number): void {
    // A window turned, or the clock went back into an earlier one: either way the next turn
    // is another than the one the installed knock ports were planned up to.
    const next = this.deps.nextTurn?.(now) ?? Infinity;
    if (next !== this.turnAt) this.turn(next);
    this.verifier.tick(now);
  }

  // The whole ruleset again with the knock ports of now, one transaction (start() replaces
  // it atomically), between two changes, with the grants and bans now.
  private turn(next: number): void {
    this.turnAt = next;
    void this.queue.exclusive(async () => {
      const pipeline = this.deps.pipeline();
      await this.backend.start(pipeline.grants(), this.deps.clock.now(), pipeline.bans());
    }).catch((error: unknown) => this.deps.emit(logEvents.firewallFailed('window turn', (error as Error).message)));
  }

  async verify(): Promise<void> {
    await this.verifier.verify();
  }

  get lastVerify(): FirewallVerifier['last'] {
    return this.verifier.last;
  }

  // Runs `work` alone, after the changes queued so far and before any queued later.
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    return await this.queue.exclusive(work);
  }

  // Like exclusive, for work that makes decisions: also waits for the first try of every
  // firewall change they queued, and says whether all of them are in force.
  async exclusiveApplied<T>(work: () => T): Promise<{ result: T; applied: boolean }> {
    const changes: Promise<boolean>[] = [];
    const result = await this.queue.exclusive(async () => {
      this.collecting = changes;
      try {
        return work();
      } finally {
        this.collecting = undefined;
      }
    });
    const outcomes = await Promise.all(changes);
    return { result, applied: outcomes.every(Boolean) };
  }

  async settle(): Promise<void> {
    await this.queue.settle();
  }

  // Pending retries are dropped; nothing more is verified.
  stop(): void {
    this.verifier.end();
    this.queue.stop();
  }

  // After a reload changed these grants' doors' commands (closeRemoved ran the old stop
  // commands): the new start commands run. A grant whose old stop command failed keeps its
  // old rule, and that stop command stays owed: opening it again would add a second rule.
  reopen(grants: readonly Grant[]): void {
    if (!this.backend.runsCommands) return;
    for (const grant of grants) {
      if (!this.journal.isOwed(grant.src, grant.door)) this.open('open', grant.src, grant.door, () => undefined);
    }
  }

  // The grants as the state file keeps them, and the stop commands still owed.
  saved(grants: readonly Grant[]): Pick<DaemonState, 'grants' | 'pendingCloses'> {
    return { grants: grants.map((grant) => this.journal.withStarted(toSavedGrant(grant))), pendingCloses: this.journal.pendingCloses() };
  }

  // What a run with another `firewall =` left goes once this ruleset is in (its gate would
  // drop what this one grants); when it cannot, the daemon runs on and says so.
  private async removeOtherKind(): Promise<void> {
    try {
      const removed = await this.backend.removeOtherKind?.();
      if (removed !== undefined) this.deps.emit(logEvents.otherKindRemoved(removed, this.backend.name));
    } catch (error) {
      this.deps.emit(logEvents.otherKindLeft((error as Error).message, this.backend.name));
    }
  }

  // Lets the changes queued so far finish, and those waiting for a retry have one more try;
  // takes no more. The grants live then.
  private async drain(): Promise<Grant[]> {
    this.verifier.end();
    this.queue.finish();
    await this.queue.settle();
    this.stop();
    return this.deps.pipeline().grants();
  }

  private forget(grants: readonly Grant[]): void {
    for (const grant of grants) this.deps.pipeline().forgetGrant(grant.src, grant.door, this.deps.clock.now());
  }

  private open(op: 'open' | 'extend', src: string, door: string, announce: () => void): void {
    // This grant, not a later one of the address and door (closed and opened again
    // meanwhile): that one has its own change, and a start command must not run twice.
    const key = `${src} ${door}`;
    const granted = op === 'open' ? ++this.grantCount : this.granted.get(key) ?? ++this.grantCount;
    this.granted.set(key, granted);
    const current = (): Grant | undefined => (this.granted.get(key) === granted ? this.deps.pipeline().grant(src, door) : undefined);
    const live = (): boolean => current() !== undefined;
    this.enqueue({
      what: `${op} of ${door} for ${src}`,
      apply: async () => {
        const grant = current();
        if (grant === undefined) return;
        if (op === 'extend') {
          await this.backend.extend(grant, this.deps.clock.now());
          return;
        }
        // Recorded before the command runs: a crash from here on never runs it twice, and
        // never forgets the stop command that undoes it. Unrecorded, it does not run: it waits
        // for a retry, as a command that failed.
        if (this.backend.runsCommands && !this.journal.wasStarted(src, door)) {
          this.journal.markStarted(src, door, this.backend.undoCommand?.(grant));
          this.deps.changed();
          if (!this.deps.save()) {
            this.journal.forgetStarted(src, door);
            throw new Error('the state file could not be written, and a start command runs only once it records it (a crash would leave its rule behind)');
          }
        }
        await this.backend.open(grant, this.deps.clock.now());
      },
      stillWanted: live,
      done: () => {
        if (live()) announce();
      },
      fix: this.hint(),
      // A grant that is not in the firewall is not a grant: the next knock opens afresh.
      gaveUp: () => {
        if (op !== 'open' || !live()) return;
        this.journal.forgetStarted(src, door);
        this.deps.pipeline().closeGrant(src, door, this.deps.clock.now(), 'not applied');
      },
    });
  }

  // Retried until it works, unless the address has been granted the door again meanwhile.
  private close(src: string, door: string, announce: () => void): void {
    this.granted.delete(`${src} ${door}`);
    const grant: Grant = { src, door, ports: this.deps.portsOf(door), opened: 0, expires: 0 };
    const commands = this.backend.runsCommands;
    if (commands && !this.journal.isOwed(src, door)) {
      // A start command that never ran has nothing for its stop command to undo.
      if (!this.journal.wasStarted(src, door)) {
        announce();
        return;
      }
      this.journal.closeBegun(toSavedGrant(grant));
    }
    this.enqueue({
      what: `close of ${door} for ${src}`,
      apply: () => this.backend.close(grant, this.journal.stopFor(src, door)),
      // A stop command undoes one start command: still owed if the address knocked again.
      stillWanted: () => commands || this.deps.pipeline().grant(src, door) === undefined,
      done: () => {
        this.journal.closeDone(src, door);
        this.deps.changed();
        announce();
      },
      fix: this.hint(),
    });
  }

  private run(what: string, apply: () => Promise<void>, stillWanted: () => boolean, done?: () => void): void {
    this.enqueue({ what, apply, stillWanted, fix: this.hint(), ...(done === undefined ? {} : { done }) });
  }

  private enqueue(change: FirewallChange): void {
    const outcome = this.queue.run(change);
    this.collecting?.push(outcome);
  }

  // Stop commands for these grants, each tried; one that fails stays owed in the state
  // file and runs after the next start.
  private async closeCommands(grants: readonly Grant[]): Promise<void> {
    await this.closeOwed();
    for (const grant of grants) {
      if (!this.journal.wasStarted(grant.src, grant.door)) continue;
      this.journal.closeBegun(toSavedGrant(grant));
      try {
        await this.backend.close(grant, this.journal.stopFor(grant.src, grant.door));
        this.journal.closeDone(grant.src, grant.door);
      } catch (error) {
        this.deps.emit(logEvents.firewallFailed(`close of ${grant.door} for ${grant.src} (owed until it works)`, (error as Error).message));
      }
    }
  }

  // Stop commands owed from before (one that failed, a reload's), tried once more each.
  private async closeOwed(): Promise<void> {
    for (const owed of this.journal.pendingCloses()) {
      const grant: Grant = { src: owed.src, door: owed.door, ports: this.deps.portsOf(owed.door), opened: owed.opened, expires: owed.expires ?? Infinity };
      try {
        await this.backend.close(grant, owed.stop);
        this.journal.closeDone(owed.src, owed.door);
      } catch (error) {
        this.deps.emit(logEvents.firewallFailed(`close of ${owed.door} for ${owed.src} (owed until it works)`, (error as Error).message));
      }
    }
  }

  private hint(): string {
    return this.backend.repairHint(this.deps.configFile());
  }
}
