import { loadConfigFile } from '../config/load-config.js';
import { ConfigError, formatWarning } from '../config/problems.js';
import type { Config, FirewallKind } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import type { FirewallBackend } from '../firewall/backend.js';
import type { CommandRunner } from '../firewall/command-runner.js';
import { chooseFirewall, createBackend } from '../firewall/select-backend.js';
import type { Filter } from '../filters/load-filter.js';
import { createLineParser, type LineParser } from '../filters/parse-line.js';
import { createSyslogTimeParser } from '../filters/syslog-time.js';
import type { Grant } from '../access/grant-table.js';
import { FileFollower } from '../sources/follow-file.js';
import type { Clock } from './clock.js';
import { FirewallQueue } from './firewall-queue.js';
import type { SavedGrant } from './state-file.js';
import type { SavedBan } from '../access/ban-store.js';
import { logEvents, type LogEvent } from './log-events.js';
import type { Logger } from './logger.js';
import { Pipeline } from './pipeline.js';
import { preflight, StartError } from './preflight.js';
import { CommandJournal } from './command-journal.js';
import { emptyState, loadState, saveState, toSavedGrant, type DaemonState } from './state-file.js';

export interface DaemonOptions {
  configPath: string;
  kernLog?: string | undefined;
  authLog?: string | undefined;
  firewall?: FirewallKind | undefined;
  stateFile?: string | undefined;
  dryRunFile?: string | undefined;
}

export interface DaemonDeps {
  clock: Clock;
  runner: CommandRunner;
  logger: Logger;
  filter: Filter;
  authFilter: Filter;
  // Tests replace the backend; the daemon otherwise builds the configured one.
  createBackend?: (kind: FirewallKind, config: Config) => FirewallBackend;
}

const TICK = 250;
// A flushed table or a deleted rule is put back within this (plus one tick).
const VERIFY_EVERY = 2000;
const POSITION_SAVE_EVERY = 5000;
const INVALID_REPORT_EVERY = 60_000;

type HeldLines = { lines: readonly string[]; parser: () => LineParser };

// The live daemon: follows the kernel log through the replay pipeline, applies decisions to
// the firewall, keeps state across restarts, reloads on SIGHUP.
export class Daemon {
  config: Config;
  private backend!: FirewallBackend;
  private pipeline!: Pipeline;
  private parser!: LineParser;
  private authParser!: LineParser;
  private follower: FileFollower | undefined;
  private authFollower: FileFollower | undefined;
  private state: DaemonState;
  private readonly firewall: FirewallQueue;
  private timer: NodeJS.Timeout | undefined;
  // While a reload installs its ruleset, lines wait here and time stands still, so every
  // knock is decided by the config whose ruleset is in force.
  private holds = 0;
  private held: HeldLines[] = [];
  private verifying = false;
  private grantsDirty = false;
  private lastPositionSave = 0;
  private lastVerify = 0;
  private lastInvalid = 0;
  private lastStale = 0;
  private lastInvalidReport = -Infinity;
  private lastOutOfRange = { future: 0, past: 0 };
  private lastOutOfRangeReport = -Infinity;
  private stopped = false;
  private readonly observers: ((decision: Decision) => void)[] = [];
  private journal = new CommandJournal(emptyState());

  constructor(
    private readonly options: DaemonOptions,
    private readonly deps: DaemonDeps,
    config: Config,
  ) {
    this.config = config;
    this.state = { version: 1, grants: [], bans: [], pendingCloses: [], oneTimeUsed: {}, logs: {} };
    this.firewall = new FirewallQueue((event) => this.emit(event));
  }

  get kernLog(): string {
    return this.sourcesOf(this.config).kernLog ?? '';
  }

  get authLog(): string | undefined {
    return this.sourcesOf(this.config).authLog;
  }

  get stateFile(): string {
    return this.options.stateFile ?? this.config.options.stateFile;
  }

  grants(): Grant[] {
    return this.pipeline.grants();
  }

  // Finds everything that would stop the daemon before the first firewall change; throws a
  // StartError (nothing installed) when something does.
  async start(): Promise<void> {
    this.backend = await this.prepare(this.config);
    this.warnAbout(this.config);
    const now = this.deps.clock.now();
    const loaded = loadState(this.stateFile);
    if (loaded.problem) this.emit(logEvents.stateUnreadable(this.stateFile, loaded.problem));
    for (const warning of loaded.warnings) this.emit(logEvents.stateEntryDropped(this.stateFile, warning));
    this.state = loaded.state;
    this.journal = new CommandJournal(this.state);
    this.pipeline = this.createPipeline(this.config);
    this.createParsers(this.config);
    const restored = this.pipeline.restore(this.state.grants, this.state.bans, now);
    for (const warning of restored.warnings) this.emit(logEvents.stateEntryDropped(this.stateFile, warning));
    this.pipeline.restoreOneTime(this.state.oneTimeUsed);
    const maxTimeout = Math.max(0, ...this.config.doors.map((door) => door.seqTimeout));
    this.pipeline.ignoreBefore = now - maxTimeout;
    if (this.state.grants.length > 0) this.emit(logEvents.restored(restored.kept, restored.dropped.length));
    const existed = await this.backend.exists();
    try {
      await this.backend.start(this.grants(), now, this.bans());
    } catch (error) {
      // Half of it may be in (IPv4 done, IPv6 failed): what was not there before goes again.
      if (!existed) await this.backend.remove([]).catch(() => undefined);
      throw new StartError([{ kind: 'runtime', message: `the ${this.backend.name} ruleset did not install: ${(error as Error).message}` }]);
    }
    this.emit(logEvents.firewallInstalled(this.backend.name, this.pipeline.grants().length));
    this.liftBans(restored.liftedBans);
    if (this.journaling) this.catchUpCommands(restored.dropped);
    this.lastVerify = now;
    this.startFollowing();
    this.timer = setInterval(() => this.tick(), TICK);
    this.emit(logEvents.started(this.config.file, this.backend.name, [this.kernLog, ...(this.authLog ? [this.authLog] : [])]));
    this.saveState();
  }

  // SIGHUP: a new config replaces the old only if it is valid, its logs can be read and its
  // firewall installs. Lines that arrive meanwhile wait and go to the config that wins.
  async reload(): Promise<boolean> {
    if (this.stopped) return false;
    let config: Config;
    let backend: FirewallBackend;
    try {
      config = loadConfigFile(this.options.configPath, this.options.firewall);
      backend = await this.prepare(config);
    } catch (error) {
      this.emit(logEvents.reloadRefused(this.options.configPath, describeRefusal(error)));
      return false;
    }
    if (backend.name !== this.backend.name) {
      // The old kind's rules would stay next to the new ones (a second gate, commands never undone).
      this.emit(logEvents.reloadRefused(this.options.configPath, `it changes the firewall from ${this.backend.name} to ${backend.name}; restart knockwatch for that`));
      return false;
    }
    this.holds++;
    try {
      return await this.firewall.exclusive(async () => {
        const now = this.deps.clock.now();
        const pipeline = this.createPipeline(config);
        const carried = pipeline.restore(this.grants().map(toSavedGrant), this.bans(), now);
        pipeline.carryOver(this.pipeline);
        try {
          await backend.start(pipeline.grants(), now, pipeline.bans());
        } catch (error) {
          this.emit(logEvents.reloadRefused(this.options.configPath, `its firewall did not install: ${(error as Error).message}`));
          return false;
        }
        // A door that is gone takes its grants along; with commands, its stop_command runs.
        if (this.journaling) {
          const gone = carried.dropped.map((saved) => this.pipeline.grant(saved.src, saved.door)).filter((grant) => grant !== undefined);
          await this.closeCommands(gone);
        }
        const oldLogs = [this.kernLog, this.authLog];
        this.config = config;
        this.backend = backend;
        this.pipeline = pipeline;
        this.createParsers(config);
        this.warnAbout(config);
        for (const warning of carried.warnings) this.emit(logEvents.stateEntryDropped('the running state', warning));
        this.liftBans(carried.liftedBans);
        // The new pipeline counts from zero.
        this.lastInvalid = 0;
        this.lastStale = 0;
        this.lastOutOfRange = { future: 0, past: 0 };
        this.grantsDirty = true;
        if (this.kernLog !== oldLogs[0] || this.authLog !== oldLogs[1]) {
          this.saveState();
          this.follower?.stop();
          this.authFollower?.stop();
          this.startFollowing();
        }
        this.emit(logEvents.reloaded(this.options.configPath));
        return true;
      });
    } finally {
      this.release();
    }
  }

  async stop(signal: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.emit(logEvents.stopping(signal));
    if (this.timer) clearInterval(this.timer);
    for (const follower of [this.follower, this.authFollower]) {
      follower?.check();
      follower?.stop();
    }
    await this.firewall.settle();
    this.firewall.stop();
    const grants = this.grants();
    try {
      if (this.journaling) await this.closeCommands(grants);
      else await this.backend.stop(grants);
    } catch (error) {
      this.emit(logEvents.firewallStopFailed((error as Error).message));
    }
    if (!this.backend.expiresItself) for (const grant of grants) this.pipeline.forgetGrant(grant.src, grant.door, this.deps.clock.now());
    this.saveState();
    this.emit(logEvents.stopped());
  }

  // `knockwatch try` without its proof: everything installed goes, grants are forgotten,
  // log positions are kept.
  async rollback(reason: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.emit(logEvents.rollingBack(reason));
    if (this.timer) clearInterval(this.timer);
    this.follower?.stop();
    this.authFollower?.stop();
    await this.firewall.settle();
    this.firewall.stop();
    const grants = this.grants();
    try {
      if (this.journaling) await this.closeCommands(grants);
      await this.backend.remove(this.journaling ? [] : grants);
    } finally {
      for (const grant of grants) this.pipeline.forgetGrant(grant.src, grant.door, this.deps.clock.now());
      this.saveState();
    }
    this.emit(logEvents.rolledBack(this.backend.name));
  }

  // Whether knockwatch's piece of the firewall is already there (another knockwatch running).
  async alreadyInstalled(): Promise<boolean> {
    const kind = chooseFirewall(this.config, this.options.firewall);
    return await this.makeBackend(kind, this.config).exists();
  }

  // Decisions as they are made (`knockwatch try` waits for a login).
  observe(observer: (decision: Decision) => void): void {
    this.observers.push(observer);
  }

  // Reads what the log has now and runs a tick: tests drive the daemon with this instead
  // of waiting for file events and timers.
  poll(): void {
    this.follower?.check();
    this.authFollower?.check();
    this.tick();
  }

  // Waits for the firewall operations queued so far.
  async settle(): Promise<void> {
    await this.firewall.settle();
  }

  // Stops reading and timers without touching the firewall or the state file: a crash.
  halt(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.firewall.stop();
    this.follower?.stop();
    this.authFollower?.stop();
  }

  tick(): void {
    if (this.holds > 0 || this.stopped) return;
    const now = this.deps.clock.now();
    this.pipeline.advanceTo(now);
    if (this.pipeline.stats.stale > this.lastStale) {
      this.emit(logEvents.staleKnocks(this.pipeline.stats.stale - this.lastStale));
      this.lastStale = this.pipeline.stats.stale;
    }
    // Invalid lines are summed up at most once a minute, however many arrive.
    if (this.pipeline.stats.invalid > this.lastInvalid && now - this.lastInvalidReport >= INVALID_REPORT_EVERY) {
      this.lastInvalidReport = now;
      const reasons = [...this.pipeline.stats.invalidReasons.keys()].slice(0, 3).join('; ');
      this.emit(logEvents.invalidLines(this.pipeline.stats.invalid - this.lastInvalid, reasons));
      this.lastInvalid = this.pipeline.stats.invalid;
    }
    const { future, past } = this.pipeline.stats.outOfRange;
    if (future + past > this.lastOutOfRange.future + this.lastOutOfRange.past && now - this.lastOutOfRangeReport >= INVALID_REPORT_EVERY) {
      this.lastOutOfRangeReport = now;
      this.emit(logEvents.outOfRangeLines(future - this.lastOutOfRange.future, past - this.lastOutOfRange.past));
      this.lastOutOfRange = { future, past };
    }
    if (this.grantsDirty || (now - this.lastPositionSave >= POSITION_SAVE_EVERY && this.positionsMoved())) this.saveState();
    if (now - this.lastVerify >= VERIFY_EVERY && !this.verifying) {
      this.lastVerify = now;
      void this.verifyFirewall();
    }
  }

  // Compares what is installed with what should be, and puts knockwatch's piece back when
  // someone flushed it or deleted a rule.
  private async verifyFirewall(): Promise<void> {
    this.verifying = true;
    try {
      await this.firewall.exclusive(async () => {
        const now = this.deps.clock.now();
        const grants = this.grants();
        const bans = this.bans();
        if (this.stopped || await this.backend.verify(grants, now, bans)) return;
        this.emit(logEvents.firewallMissing(this.backend.name));
        await this.backend.start(grants, this.deps.clock.now(), bans);
      });
    } catch (error) {
      this.emit(logEvents.firewallFailed('repair', (error as Error).message));
    } finally {
      this.verifying = false;
    }
  }

  // Checks a config for use: its logs readable, its firewall usable. Returns the backend.
  private async prepare(config: Config): Promise<FirewallBackend> {
    const { problems, backend } = await preflight(config, this.sourcesOf(config), this.options.firewall, (kind) => this.makeBackend(kind, config));
    if (problems.length > 0 || backend === undefined) throw new StartError(problems);
    return backend;
  }

  private warnAbout(config: Config): void {
    for (const warning of config.warnings) this.emit(logEvents.configWarning(formatWarning(warning)));
  }

  private sourcesOf(config: Config): { kernLog: string | undefined; authLog: string | undefined } {
    return { kernLog: this.options.kernLog ?? config.options.kernLog, authLog: this.options.authLog ?? config.options.authLog };
  }

  private makeBackend(kind: FirewallKind, config: Config): FirewallBackend {
    return this.deps.createBackend?.(kind, config) ?? createBackend(kind, config, this.deps.runner, this.options.dryRunFile);
  }

  private createPipeline(config: Config): Pipeline {
    return new Pipeline(config, (decision) => this.onDecision(decision), { hostClock: this.deps.clock });
  }

  // Only once a config is in use: a refused reload keeps the parsers of the running one.
  private createParsers(config: Config): void {
    const timeParser = (): ReturnType<typeof createSyslogTimeParser> => createSyslogTimeParser({ timeZone: config.options.timeZone, reference: this.deps.clock.now() });
    this.parser = createLineParser(this.deps.filter, timeParser());
    this.authParser = createLineParser(this.deps.authFilter, timeParser());
  }

  // knockd's stop_commands for these grants, each tried; one that fails stays owed in the
  // state file and runs after the next start.
  private async closeCommands(grants: readonly Grant[]): Promise<void> {
    for (const grant of grants) {
      if (!this.journal.wasStarted(grant.src, grant.door)) continue;
      this.journal.closeBegun(toSavedGrant(grant));
      try {
        await this.backend.close(grant);
        this.journal.closeDone(grant.src, grant.door);
      } catch (error) {
        this.emit(logEvents.firewallFailed(`close of ${grant.door} for ${grant.src} (owed until it works)`, (error as Error).message));
      }
    }
  }

  private get journaling(): boolean {
    return this.backend.name === 'command';
  }

  // After a restart with knockd's commands: stop_commands owed (closed or expired while
  // down) run, and start_commands of grants that were recorded but never begun run once.
  private catchUpCommands(dropped: readonly SavedGrant[]): void {
    for (const grant of dropped) this.journal.closeBegun(grant);
    for (const owed of this.journal.pendingCloses()) this.closeInFirewall(owed.src, owed.door, () => undefined);
    for (const grant of this.grants()) {
      if (!this.journal.wasStarted(grant.src, grant.door)) this.openInFirewall('open', grant.src, grant.door, () => undefined);
    }
  }

  private openInFirewall(op: 'open' | 'extend', src: string, door: string, announce: () => void): void {
    const live = (): boolean => this.pipeline.grant(src, door) !== undefined;
    this.firewall.run({
      what: `${op} of ${door} for ${src}`,
      apply: async () => {
        const grant = this.pipeline.grant(src, door);
        if (grant === undefined) return;
        if (op === 'extend') {
          await this.backend.extend(grant, this.deps.clock.now());
          return;
        }
        // Recorded before the command runs: a crash from here on never runs it twice.
        if (this.journaling && !this.journal.wasStarted(src, door)) {
          this.journal.markStarted(src, door);
          this.saveState();
        }
        await this.backend.open(grant, this.deps.clock.now());
      },
      stillWanted: live,
      done: () => {
        if (live()) announce();
      },
      fix: this.fixHint(),
      // A grant that is not in the firewall is not a grant: the next knock opens afresh.
      gaveUp: () => {
        if (op !== 'open' || !live()) return;
        this.journal.forgetStarted(src, door);
        this.pipeline.closeGrant(src, door, this.deps.clock.now(), 'not applied');
      },
    });
  }

  // Retried until it works, unless the address has been granted the door again meanwhile.
  private closeInFirewall(src: string, door: string, announce: () => void): void {
    const grant: Grant = { src, door, ports: this.portsOf(door), opened: 0, expires: 0 };
    const journaling = this.journaling;
    if (journaling && !this.journal.isOwed(src, door)) {
      // A start_command that never ran has nothing for its stop_command to undo.
      if (!this.journal.wasStarted(src, door)) {
        announce();
        return;
      }
      this.journal.closeBegun(toSavedGrant(grant));
    }
    this.firewall.run({
      what: `close of ${door} for ${src}`,
      apply: () => this.backend.close(grant),
      // A stop_command undoes one start_command: still owed if the address knocked again.
      stillWanted: () => journaling || this.pipeline.grant(src, door) === undefined,
      done: () => {
        this.journal.closeDone(src, door);
        this.grantsDirty = true;
        announce();
      },
      fix: this.fixHint(),
    });
  }

  // Bans a whitelist now covers: gone from the state, and from the firewall too.
  private liftBans(addresses: readonly string[]): void {
    for (const src of addresses) {
      this.emit(logEvents.banLifted(src));
      this.firewall.run({ what: `unban of ${src}`, apply: () => this.backend.unban(src), stillWanted: () => true, fix: this.fixHint() });
    }
  }

  private bans(): SavedBan[] {
    return this.pipeline.bans();
  }

  private startFollowing(): void {
    this.follower = this.follow(this.kernLog, () => this.parser);
    const authLog = this.authLog;
    this.authFollower = authLog === undefined ? undefined : this.follow(authLog, () => this.authParser);
  }

  private follow(path: string, parser: () => LineParser): FileFollower {
    const follower = new FileFollower(path, {
      resume: this.state.logs[path],
      clock: this.deps.clock,
      onLines: (lines) => this.handleLines(lines, parser),
      onNotice: (notice) => this.emit(logEvents.follow(path, notice)),
    });
    follower.start();
    follower.check();
    return follower;
  }

  private handleLines(lines: readonly string[], parser: () => LineParser): void {
    if (this.holds > 0) this.held.push({ lines: [...lines], parser });
    else this.pipeline.handleLines(lines, parser());
  }

  // Ends a hold: the lines that waited go to the pipeline now in force, in order.
  private release(): void {
    this.holds = Math.max(0, this.holds - 1);
    if (this.holds > 0 || this.stopped) return;
    const held = this.held.splice(0);
    for (const batch of held) this.pipeline.handleLines(batch.lines, batch.parser());
  }

  // Decisions become firewall changes; what a change means for the user ("Opened ...") is
  // logged once it is in force, not before.
  private onDecision(decision: Decision): void {
    for (const observer of this.observers) observer(decision);
    const announce = (): void => {
      const event = logEvents.decision(decision);
      if (event) this.emit(event);
    };
    switch (decision.type) {
      case 'open':
      case 'extend':
        this.grantsDirty = true;
        this.openInFirewall(decision.type, decision.src, decision.door, announce);
        break;
      case 'close':
      case 'expire':
        this.grantsDirty = true;
        this.closeInFirewall(decision.src, decision.door, announce);
        break;
      case 'banned': {
        this.grantsDirty = true;
        const ban = { src: decision.src, until: decision.until };
        this.firewall.run({
          what: `ban of ${decision.src}`,
          apply: () => this.backend.ban(ban, this.deps.clock.now()),
          stillWanted: () => this.pipeline.bannedUntil(ban.src, this.deps.clock.now()) !== undefined,
          done: announce,
          fix: this.fixHint(),
        });
        break;
      }
      case 'unbanned':
        this.grantsDirty = true;
        this.firewall.run({
          what: `unban of ${decision.src}`,
          apply: () => this.backend.unban(decision.src),
          stillWanted: () => this.pipeline.bannedUntil(decision.src, this.deps.clock.now()) === undefined,
          done: announce,
          fix: this.fixHint(),
        });
        break;
      default:
        announce();
        break;
    }
  }

  private fixHint(): string {
    if (this.backend.name === 'command') {
      return `Check the door's commands in ${this.config.file} (run one by hand with an address for %IP%), then reload knockwatch.`;
    }
    return `Check that "${this.backend.name === 'nftables' ? 'nft list ruleset' : 'iptables -S'}" works and nothing else removes knockwatch's rules, then reload knockwatch.`;
  }

  private portsOf(door: string): Grant['ports'] {
    return this.config.doors.find((candidate) => candidate.name === door)?.open ?? [];
  }

  private positionsMoved(): boolean {
    return [this.follower, this.authFollower].some((follower) => {
      const position = follower?.position();
      const saved = follower === undefined ? undefined : this.state.logs[follower.path];
      return position !== undefined && (saved === undefined || saved.offset !== position.offset || saved.ino !== position.ino);
    });
  }

  private saveState(): void {
    const now = this.deps.clock.now();
    const logs = { ...this.state.logs };
    for (const follower of [this.follower, this.authFollower]) {
      const position = follower?.position();
      if (follower !== undefined && position !== undefined) logs[follower.path] = position;
    }
    this.state = {
      version: 1,
      grants: this.grants().map((grant) => this.journal.withStarted(toSavedGrant(grant))),
      bans: this.pipeline.bans(),
      pendingCloses: this.journal.pendingCloses(),
      oneTimeUsed: this.pipeline.usedOneTime(),
      logs,
    };
    try {
      saveState(this.stateFile, this.state);
      this.grantsDirty = false;
      this.lastPositionSave = now;
    } catch (error) {
      if (this.grantsDirty) this.emit(logEvents.stateWriteFailed(this.stateFile, (error as Error).message));
      this.grantsDirty = false;
      this.lastPositionSave = now;
    }
  }

  private emit(event: LogEvent): void {
    this.deps.logger.log(event.level, event.message);
  }
}

function describeRefusal(error: unknown): string {
  if (error instanceof ConfigError) return `${error.problems.length} problem(s), first: ${error.message.split('\n')[0] ?? ''}`;
  if (error instanceof StartError) return error.message.replace(/\n/g, '; ');
  return (error as Error).message;
}
