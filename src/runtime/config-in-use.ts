import { formatWarning } from '../config/problems.js';
import type { Config, FirewallKind } from '../config/types.js';
import type { FirewallBackend } from '../firewall/backend.js';
import type { CommandRunner } from '../firewall/command-runner.js';
import { chooseFirewall, createBackend } from '../firewall/select-backend.js';
import type { Filter } from '../filters/load-filter.js';
import { createLineParser, type LineParser } from '../filters/parse-line.js';
import { createSyslogTimeParser } from '../filters/syslog-time.js';
import type { Grant } from '../access/grant-table.js';
import type { Clock } from './clock.js';
import { logEvents, type LogEvent } from './log-events.js';
import type { Logger } from './logger.js';
import { preflight, StartError } from './preflight.js';
import { fileSourceWarning, type SourceProbes, type SourceSelection } from './source-choice.js';
import type { LineKind, SourceSpec } from './source-list.js';

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
  // What the machine offers (kmsg, the journal); tests give their own.
  probes?: SourceProbes;
}

// The sources prepare() chose for each config checked, until it is dropped: reloads overlap
// (one may prepare while another installs), so every config keeps its own choice.
const prepared = new WeakMap<Config, SourceSelection>();

// What the daemon derives from the config in force, with the command line's overrides:
// the sources to read, the parser for each kind of line, the firewall backend to build.
// A reload makes a new one only once the new config has won, so a refused reload keeps the
// parsers (time zone included) of the running config.
export class ConfigInUse {
  readonly parsers: Record<LineKind, LineParser>;
  // The sources as prepare() chose them for this config (auto depends on the machine).
  private selection: SourceSelection | undefined;

  constructor(
    readonly config: Config,
    private readonly options: DaemonOptions,
    private readonly deps: DaemonDeps,
  ) {
    const timeParser = (): ReturnType<typeof createSyslogTimeParser> => createSyslogTimeParser({ timeZone: config.options.timeZone, reference: deps.clock.now() });
    this.parsers = { knocks: createLineParser(deps.filter, timeParser()), auth: createLineParser(deps.authFilter, timeParser()) };
  }

  get stateFile(): string {
    return this.options.stateFile ?? this.config.options.stateFile;
  }

  // The sources to read; empty before prepare().
  get specs(): SourceSpec[] {
    return this.selection?.specs ?? [];
  }

  // "kernel: kmsg (auto)", "sshd: none (...)": for the start-up line.
  get reasons(): string[] {
    return this.selection?.reasons ?? [];
  }

  // The source sshd's lines come from, if any.
  get authSource(): string | undefined {
    return this.selection?.auth.spec?.name;
  }

  next(config: Config): ConfigInUse {
    const use = new ConfigInUse(config, this.options, this.deps);
    use.selection = prepared.get(config);
    return use;
  }

  // Checks a config for use: its sources readable, its firewall usable. Returns the backend;
  // throws a StartError saying what is wrong.
  async prepare(config: Config): Promise<FirewallBackend> {
    const { kernLog, authLog } = this.options;
    const { problems, backend, sources } = await preflight(config, { kernLog, authLog }, this.options.firewall, (kind) => this.makeBackend(kind, config), this.deps.probes);
    if (problems.length > 0 || backend === undefined) throw new StartError(problems);
    prepared.set(config, sources);
    if (config === this.config) this.selection = sources;
    return backend;
  }

  // Whether knockwatch's piece of the firewall is already there (another knockwatch running).
  async alreadyInstalled(): Promise<boolean> {
    return await this.makeBackend(chooseFirewall(this.config, this.options.firewall), this.config).exists();
  }

  private makeBackend(kind: FirewallKind, config: Config): FirewallBackend {
    return this.deps.createBackend?.(kind, config) ?? createBackend(kind, config, this.deps.runner, this.options.dryRunFile);
  }

  warnAbout(emit: (event: LogEvent) => void): void {
    for (const warning of this.config.warnings) emit(logEvents.configWarning(formatWarning(warning)));
    const fileWarning = this.selection === undefined ? undefined : fileSourceWarning(this.selection);
    if (fileWarning !== undefined) emit(logEvents.configWarning(fileWarning));
  }

  portsOf(door: string): Grant['ports'] {
    return this.config.doors.find((candidate) => candidate.name === door)?.open ?? [];
  }
}
