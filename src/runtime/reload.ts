import type { Config } from '../config/types.js';
import { loadConfigFile } from '../config/load-config.js';
import { ConfigError } from '../config/problems.js';
import type { FirewallBackend } from '../firewall/backend.js';
import type { Clock } from './clock.js';
import type { ConfigInUse, DaemonOptions } from './config-in-use.js';
import type { FirewallSync } from './firewall-sync.js';
import type { LineHold } from './line-hold.js';
import { logEvents, type LogEvent } from './log-events.js';
import type { Pipeline } from './pipeline.js';
import { StartError } from './preflight.js';
import { toSavedGrant } from './state-file.js';

export interface ReloadHost {
  options: DaemonOptions;
  clock: Clock;
  emit: (event: LogEvent) => void;
  sync: FirewallSync;
  hold: LineHold;
  // What is in force now.
  use: () => ConfigInUse;
  pipeline: () => Pipeline;
  createPipeline: (config: Config) => Pipeline;
  // Puts the new config and its pipeline in force (parsers, sources, reports).
  adopt: (use: ConfigInUse, pipeline: Pipeline) => void;
}

// A new config replaces the old only if it is valid, its logs can be read and its firewall
// installs. The new pipeline is built from the new config and takes over the old one's
// grants, bans, used one-time sequences and knocks in progress; lines that arrive meanwhile
// wait and go to the config that wins.
export async function reloadConfig(host: ReloadHost): Promise<boolean> {
  const { emit, sync } = host;
  const { configPath } = host.options;
  let config: Config;
  let backend: FirewallBackend;
  try {
    config = loadConfigFile(configPath, host.options.firewall);
    backend = await host.use().prepare(config);
  } catch (error) {
    emit(logEvents.reloadRefused(configPath, describeRefusal(error)));
    return false;
  }
  if (backend.name !== sync.backend.name) {
    // The old kind's rules would stay next to the new ones (a second gate, commands never undone).
    emit(logEvents.reloadRefused(configPath, `it changes the firewall from ${sync.backend.name} to ${backend.name}; restart knockwatch for that`));
    return false;
  }
  return await host.hold.during(async () => await sync.exclusive(async () => {
    const now = host.clock.now();
    const old = host.pipeline();
    const pipeline = host.createPipeline(config);
    const carried = pipeline.restore(old.grants().map(toSavedGrant), old.bans(), now);
    pipeline.carryOver(old);
    try {
      await backend.start(pipeline.grants(), now, pipeline.bans());
    } catch (error) {
      emit(logEvents.reloadRefused(configPath, `its firewall did not install: ${(error as Error).message}`));
      // Part of it may be in (iptables installs IPv4, then IPv6): the running config's
      // ruleset goes back now, not at the next check.
      try {
        await sync.backend.start(old.grants(), now, old.bans());
      } catch (repair) {
        emit(logEvents.firewallFailed('repair', (repair as Error).message));
      }
      return false;
    }
    // A door that is gone takes its grants along, through the old backend that knows it; so
    // does a door whose commands changed (only its old stop_command undoes its old
    // start_command), and its new start_command opens the grant again once the new backend rules.
    const rerun = pipeline.grants().filter((grant) => commandsChanged(host.use().config, config, grant.door));
    const closing = [...carried.dropped.map((saved) => old.grant(saved.src, saved.door)), ...rerun.map((grant) => old.grant(grant.src, grant.door))];
    await sync.closeRemoved(closing.filter((grant) => grant !== undefined));
    const replaced = sync.backend;
    sync.use(backend);
    await replaced.release?.();
    const use = host.use().next(config);
    use.warnAbout(emit);
    host.adopt(use, pipeline);
    for (const warning of carried.warnings) emit(logEvents.stateEntryDropped('the running state', warning));
    sync.liftBans(carried.liftedBans);
    sync.reopen(rerun);
    emit(logEvents.reloaded(configPath));
    return true;
  }));
}

// Whether a door kept by a reload runs other commands now. A door without stop_command has
// nothing to undo (knockd's one-shot command).
function commandsChanged(before: Config, after: Config, name: string): boolean {
  const old = before.doors.find((door) => door.name === name);
  const now = after.doors.find((door) => door.name === name);
  if (old === undefined || now === undefined || (old.stopCommand === undefined && old.stopCommand6 === undefined)) return false;
  return old.startCommand !== now.startCommand || old.startCommand6 !== now.startCommand6
    || old.stopCommand !== now.stopCommand || old.stopCommand6 !== now.stopCommand6;
}

function describeRefusal(error: unknown): string {
  if (error instanceof ConfigError) return `${error.problems.length} problem(s), first: ${error.message.split('\n')[0] ?? ''}`;
  if (error instanceof StartError) return error.message.replace(/\n/g, '; ');
  return (error as Error).message;
}
