import { loadConfigFile } from '../config/load-config.js';
import { ConfigError } from '../config/problems.js';
import type { Config, FirewallKind } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import type { FirewallBackend } from '../firewall/backend.js';
import type { CommandRunner } from '../firewall/command-runner.js';
import { chooseFirewall, createBackend } from '../firewall/select-backend.js';
import type { Filter } from '../filters/load-filter.js';
import { createLineParser, type LineParser } from '../filters/parse-line.js';
import { createSyslogTimeParser } from '../filters/syslog-time.js';
import type { Grant } from '../grants/grant-table.js';
import { FileFollower } from '../sources/follow-file.js';
import type { Clock } from './clock.js';
import { FirewallQueue } from './firewall-queue.js';
import { restoreInto } from './restore-state.js';
import { logEvents, type LogEvent } from './log-events.js';
import type { Logger } from './logger.js';
import { Pipeline } from './pipeline.js';
import { loadState, saveState, toSavedGrant, type DaemonState } from './state-file.js';

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
const VERIFY_EVERY = 30_000;
const POSITION_SAVE_EVERY = 5000;
const INVALID_REPORT_EVERY = 60_000;

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
  private grantsDirty = false;
  private lastPositionSave = 0;
  private lastVerify = 0;
  private lastInvalid = 0;
  private lastStale = 0;
  private lastInvalidReport = -Infinity;
  private lastOutOfRange = { future: 0, past: 0 };
  private lastOutOfRangeReport = -Infinity;
  private stopped = false;

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
    const path = this.options.kernLog ?? this.config.options.kernLog;
    if (path === undefined) throw new ConfigError([{ file: this.config.file, section: 'options', key: 'kern_log', expected: 'the kernel log to follow (or --log PATH)', found: '' }]);
    return path;
  }

  get authLog(): string | undefined {
    return this.options.authLog ?? this.config.options.authLog;
  }

  get stateFile(): string {
    return this.options.stateFile ?? this.config.options.stateFile;
  }

  grants(): Grant[] {
    return this.pipeline.grants.list();
  }

  // Installs the firewall and starts following; throws (nothing half-installed) when the
  // firewall cannot be set up.
  async start(): Promise<void> {
    const now = this.deps.clock.now();
    const loaded = loadState(this.stateFile);
    if (loaded.problem) this.emit(logEvents.stateUnreadable(this.stateFile, loaded.problem));
    for (const warning of loaded.warnings) this.emit(logEvents.stateEntryDropped(this.stateFile, warning));
    this.state = loaded.state;
    this.backend = this.makeBackend(chooseFirewall(this.config, this.options.firewall), this.config);
    this.pipeline = this.createPipeline(this.config);
    this.createParsers(this.config);
    const restored = restoreInto(this.pipeline, this.config, this.state.grants, this.state.bans, now);
    for (const warning of restored.warnings) this.emit(logEvents.stateEntryDropped(this.stateFile, warning));
    this.pipeline.engine.restoreOneTime(this.state.oneTimeUsed);
    const maxTimeout = Math.max(0, ...this.config.doors.map((door) => door.seqTimeout));
    this.pipeline.ignoreBefore = now - maxTimeout;
    if (this.state.grants.length > 0) this.emit(logEvents.restored(restored.kept, restored.dropped.length));
    await this.backend.start(this.grants(), now, this.bans());
    this.emit(logEvents.firewallInstalled(this.backend.name, this.pipeline.grants.size));
    this.liftBans(restored.liftedBans);
    this.lastVerify = now;
    this.startFollowing();
    this.timer = setInterval(() => this.tick(), TICK);
    this.emit(logEvents.started(this.config.file, this.backend.name, [this.kernLog, ...(this.authLog ? [this.authLog] : [])]));
    this.saveState();
  }

  // SIGHUP: a new config replaces the old only if it is valid and its firewall installs.
  async reload(): Promise<boolean> {
    let config: Config;
    try {
      config = loadConfigFile(this.options.configPath);
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems.length + ' problem(s), first: ' + error.message.split('\n')[0] : (error as Error).message;
      this.emit(logEvents.reloadRefused(this.options.configPath, problems));
      return false;
    }
    if ((this.options.kernLog ?? config.options.kernLog) === undefined) {
      this.emit(logEvents.reloadRefused(this.options.configPath, 'no kern_log in it, and no --log given'));
      return false;
    }
    await this.firewall.settle();
    const now = this.deps.clock.now();
    const kind = chooseFirewall(config, this.options.firewall);
    const backend = this.makeBackend(kind, config);
    const pipeline = this.createPipeline(config);
    const carried = restoreInto(pipeline, config, this.grants().map(toSavedGrant), this.pipeline.auth.savedBans(), now);
    pipeline.engine.restoreOneTime(this.pipeline.engine.usedOneTime());
    // A door that is gone takes its grants along; with commands, its stop_command runs.
    if (this.backend.name === 'command') {
      for (const saved of carried.dropped) {
        const grant = this.pipeline.grants.find(saved.src, saved.door);
        if (grant !== undefined) await this.backend.close(grant).catch(() => undefined);
      }
    }
    try {
      await backend.start(pipeline.grants.list(), now, pipeline.auth.savedBans());
    } catch (error) {
      this.emit(logEvents.reloadRefused(this.options.configPath, `its firewall did not install: ${(error as Error).message}`));
      return false;
    }
    const oldLogs = [this.kernLog, this.authLog];
    this.config = config;
    this.backend = backend;
    this.pipeline = pipeline;
    this.createParsers(config);
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
      await this.backend.stop(grants);
    } catch (error) {
      this.emit(logEvents.firewallFailed('stop', (error as Error).message));
    }
    if (!this.backend.expiresItself) for (const grant of grants) this.pipeline.grants.close(grant.src, grant.door, this.deps.clock.now(), 'stop');
    this.saveState();
    this.emit(logEvents.stopped());
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
    if (now - this.lastVerify >= VERIFY_EVERY) {
      this.lastVerify = now;
      this.firewall.run('reinstall', async () => {
        if (await this.backend.verify()) return;
        this.emit(logEvents.firewallMissing(this.backend.name));
        await this.backend.start(this.grants(), this.deps.clock.now(), this.bans());
      });
    }
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

  // Bans a whitelist now covers: gone from the state, and from the firewall too.
  private liftBans(addresses: readonly string[]): void {
    for (const src of addresses) {
      this.emit(logEvents.banLifted(src));
      this.firewall.run(`unban of ${src}`, () => this.backend.unban(src));
    }
  }

  private bans(): { src: string; until: number }[] {
    return this.pipeline.auth.savedBans();
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
      onLines: (lines) => this.pipeline.handleLines(lines, parser()),
      onNotice: (notice) => this.emit(logEvents.follow(path, notice)),
    });
    follower.start();
    follower.check();
    return follower;
  }

  private onDecision(decision: Decision): void {
    const event = logEvents.decision(decision);
    if (event) this.emit(event);
    switch (decision.type) {
      case 'open':
      case 'extend':
        this.grantsDirty = true;
        this.applyGrant(decision.type, decision.src, decision.door);
        break;
      case 'close':
      case 'expire':
        this.grantsDirty = true;
        this.applyClose({ src: decision.src, door: decision.door, ports: this.portsOf(decision.door), opened: 0, expires: decision.time });
        break;
      case 'banned': {
        this.grantsDirty = true;
        const ban = { src: decision.src, until: decision.until };
        this.firewall.run(`ban of ${decision.src}`, () => this.backend.ban(ban, this.deps.clock.now()),
          () => this.pipeline.auth.bannedUntil(ban.src, this.deps.clock.now()) !== undefined);
        break;
      }
      case 'unbanned':
        this.grantsDirty = true;
        this.firewall.run(`unban of ${decision.src}`, () => this.backend.unban(decision.src),
          () => this.pipeline.auth.bannedUntil(decision.src, this.deps.clock.now()) === undefined);
        break;
      default:
        break;
    }
  }

  private portsOf(door: string): Grant['ports'] {
    return this.config.doors.find((candidate) => candidate.name === door)?.open ?? [];
  }

  private applyGrant(op: 'open' | 'extend', src: string, door: string): void {
    const live = (): boolean => this.pipeline.grants.find(src, door) !== undefined;
    this.firewall.run(`${op} for ${src}`, async () => {
      const grant = this.pipeline.grants.find(src, door);
      if (grant === undefined) return;
      if (op === 'open') await this.backend.open(grant, this.deps.clock.now());
      else await this.backend.extend(grant, this.deps.clock.now());
      this.emit(logEvents.applied(op, src, door));
    }, live);
  }

  // Retried until it works, unless the address has been granted the door again meanwhile.
  private applyClose(grant: Grant): void {
    this.firewall.run(`close for ${grant.src}`, () => this.backend.close(grant), () => this.pipeline.grants.find(grant.src, grant.door) === undefined);
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
      grants: this.grants().map(toSavedGrant),
      bans: this.pipeline.auth.savedBans(),
      pendingCloses: this.state.pendingCloses,
      oneTimeUsed: this.pipeline.engine.usedOneTime(),
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
