import type { Config } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import type { Grant } from '../access/grant-table.js';
import { LiveDoors } from '../doors/live-doors.js';
import { ConfigInUse, type DaemonDeps, type DaemonOptions } from './config-in-use.js';
import type { ControlResult, ControlTarget, StatusReport } from './control-types.js';
import { DaemonControl } from './daemon-control.js';
import { startFleet } from '../fleet/daemon-fleet.js';
import { FirewallSync } from './firewall-sync.js';
import { LineHold } from './line-hold.js';
import { LineReports } from './line-reports.js';
import { logEvents, type LogEvent } from './log-events.js';
import { Pipeline } from './pipeline.js';
import { reloadConfig } from './reload.js';
import { SourceList } from './source-list.js';
import { StateKeeper } from './state-keeper.js';
export type { DaemonDeps, DaemonOptions } from './config-in-use.js';

const TICK = 250;

// The live daemon: reads its sources through the pipeline, keeps the firewall in step with
// the decisions, keeps state across restarts, reloads on SIGHUP, answers the control socket.
export class Daemon implements ControlTarget {
  private use: ConfigInUse;
  private pipeline!: Pipeline;
  private readonly sources: SourceList;
  private readonly sync: FirewallSync;
  private readonly keeper: StateKeeper;
  private readonly reports: LineReports;
  private readonly hold: LineHold;
  private readonly control: DaemonControl;
  private readonly observers: ((decision: Decision) => void)[] = [];
  private readonly live = new LiveDoors(() => this.keeper.save(), (door, window, latest) => this.emit(logEvents.clockBehindWindow(door, window, latest)));
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  // Stopped as by a crash (halt): nothing more is decided.
  private halted = false;
  private startedAt = 0;

  constructor(private readonly options: DaemonOptions, private readonly deps: DaemonDeps, config: Config) {
    const { clock } = deps;
    this.use = new ConfigInUse(config, options, deps);
    this.keeper = new StateKeeper({ path: () => this.use.stateFile, clock, emit: this.emit, sources: () => this.sources.list,
      content: () => ({ ...this.sync.saved(this.grants()), bans: this.pipeline.bans(), ...this.pipeline.accessState(), oneTimeUsed: this.pipeline.usedOneTime(), usedWindows: this.live.saved(clock.now()), latestWindows: this.live.latestWindows() }) });
    this.sync = new FirewallSync({ clock, emit: this.emit, pipeline: () => this.pipeline, configFile: () => this.config.file,
      portsOf: (door) => this.use.portsOf(door), changed: () => this.keeper.changed(), save: () => this.keeper.save(), nextTurn: (now) => this.live.nextTurn(this.config, now) });
    this.reports = new LineReports((event) => deps.logger.log(event.level, event.message), () => clock.now());
    this.hold = new LineHold((lines, kind) => this.pipeline.handleLines(lines, this.use.parsers[kind]), () => this.halted);
    this.sources = new SourceList({ clock, resume: (name) => this.keeper.positionOf(name),
      onLines: (lines, kind) => this.hold.pass(lines, kind), onNotice: (name, notice) => this.emit(logEvents.follow(name, notice)),
      onMessage: (name, message) => this.emit(logEvents.sourceMessage(name, message)) });
    this.control = new DaemonControl({ clock, startedAt: () => this.startedAt, config: () => this.config, pipeline: () => this.pipeline,
      sources: () => this.sources.list, sync: this.sync, save: () => this.keeper.save(), stopped: () => this.stopped });
  }

  get config(): Config { return this.use.config; }
  get authLog(): string | undefined { return this.use.authSource; }
  grants(): Grant[] { return this.pipeline.grants(); }
  status(): StatusReport { return this.control.status(); }
  async unban(src: string): Promise<ControlResult> { return await this.control.unban(src); }
  async close(src: string, door: string | undefined): Promise<ControlResult> { return await this.control.close(src, door); }
  // Whether knockwatch's piece of the firewall is already there (another knockwatch running).
  async alreadyInstalled(): Promise<boolean> { return await this.use.alreadyInstalled(); }
  // Decisions as they are made (`knockwatch try` waits for a login).
  observe(observer: (decision: Decision) => void): void { this.observers.push(observer); }
  // Waits for the firewall changes queued so far.
  async settle(): Promise<void> { await this.sync.settle(); }

  // Finds everything that would stop the daemon before the first firewall change; throws a
  // StartError (nothing installed) when something does.
  async start(): Promise<void> {
    const backend = await this.use.prepare(this.config);
    this.use.warnAbout(this.emit);
    this.startedAt = this.deps.clock.now();
    this.sync.use(backend, this.live.restore(this.keeper.load()));
    this.pipeline = this.createPipeline(this.config);
    const restored = this.keeper.restoreInto(this.pipeline, this.config, this.startedAt);
    await this.sync.install(this.startedAt, restored, () => this.sources.start(this.use.specs));
    this.timer = setInterval(() => this.tick(), TICK);
    this.control.fleet = startFleet({ clock: this.deps.clock, emit: this.emit, config: () => this.config, pipeline: () => this.pipeline, sync: this.sync, stopped: () => this.stopped, observe: (observer) => this.observe(observer) });
    this.emit(logEvents.started(this.config.file, backend.name, this.use.reasons));
    this.keeper.save();
  }

  // SIGHUP: see reloadConfig.
  async reload(): Promise<boolean> {
    if (this.stopped) return false;
    const { options, deps, sync, hold, emit, createPipeline } = this;
    return await reloadConfig({ options, clock: deps.clock, emit, sync, hold, createPipeline, use: () => this.use, pipeline: () => this.pipeline,
      adopt: (use, pipeline) => {
        [this.use, this.pipeline] = [use, pipeline];
        this.reports.reset();
        this.keeper.changed();
        // A stop that came during the reload stopped the sources: none start again.
        const kept = this.stopped ? undefined : this.sources.switchTo(use.specs, () => this.keeper.save());
        if (kept !== undefined) this.emit(logEvents.sourcesKept(kept));
      },
    });
  }

  async stop(signal: string): Promise<void> {
    if (!this.end(logEvents.stopping(signal), true)) return;
    // Lines a reload holds are decided first: the positions saved count them as read.
    await this.hold.released();
    await this.sync.stopGrants();
    this.emit(logEvents.stopped());
  }

  // `knockwatch try` without its proof: all installed goes, grants are forgotten, positions kept.
  async rollback(reason: string): Promise<void> {
    if (!this.end(logEvents.rollingBack(reason), false)) return;
    await this.hold.released();
    await this.sync.removeAll();
    this.emit(logEvents.rolledBack(this.sync.backend.name));
  }

  // Reads what the sources have now and runs a tick: tests drive the daemon with it, not timers.
  poll(): void {
    this.sources.check();
    this.tick();
  }

  // Stops reading and timers without touching the firewall or the state file: a crash.
  halt(): void {
    this.halted = true;
    this.end(undefined, false);
    this.sync.stop();
  }

  tick(): void {
    if (this.hold.holding || this.stopped) return;
    const now = this.deps.clock.now();
    this.pipeline.advanceTo(now);
    this.reports.report(this.pipeline.stats, now);
    this.keeper.tick(now);
    this.sync.tick(now);
  }

  // Stops timers and sources (a clean stop reads what they have first); false when stopped already.
  private end(event: LogEvent | undefined, readLast: boolean): boolean {
    if (this.stopped) return false;
    this.stopped = true;
    if (event) this.emit(event);
    if (this.timer) clearInterval(this.timer);
    this.sources.stop(readLast);
    // After the last read: what it held back is summed up too.
    this.reports.flush();
    return true;
  }

  private readonly createPipeline = (config: Config): Pipeline => new Pipeline(this.live.configFor(config), (decision) => {
    for (const observer of this.observers) observer(decision);
    // Saved at the next tick with the log position that read it.
    if (decision.type === 'login' || decision.type === 'logout') this.keeper.changed();
    this.sync.apply(decision);
  }, { hostClock: this.deps.clock });

  private readonly emit = (event: LogEvent): void => this.reports.log(event);
}
