import type { SavedBan } from '../access/ban-store.js';
import type { Grant } from '../access/grant-table.js';
import type { FleetOptions } from '../config/fleet-options.js';
import type { Config } from '../config/types.js';
import type { Decision } from '../engine/decisions.js';
import { networkContains } from '../net/address.js';
import type { Clock } from '../runtime/clock.js';
import type { FirewallSync } from '../runtime/firewall-sync.js';
import type { LogEvent } from '../runtime/log-events.js';
import type { Pipeline } from '../runtime/pipeline.js';
import { toSavedGrant } from '../runtime/state-file.js';
import { FleetApplier, type FleetTarget } from './fleet-applier.js';
import { grantKey, messageKey } from './fleet-keys.js';
import { fleetEvents, REFUSALS_LOGGED } from './fleet-events.js';
import type { FleetMessage } from './fleet-message.js';
import { FleetPublisher } from './fleet-publisher.js';
import type { FleetStatus } from './fleet-status.js';
import { RedisLink } from './redis-link.js';

// What the daemon's side of the fleet uses of its Redis link.
export type FleetLink = Pick<RedisLink, 'up' | 'start' | 'whenUp' | 'publish' | 'commandFailed' | 'tip' | 'snapshot' | 'read' | 'stop'>;

export interface DaemonFleetDeps {
  clock: Clock;
  emit: (event: LogEvent) => void;
  // The config and pipeline in force (a reload replaces both; [fleet] itself is read at start).
  config: () => Config;
  pipeline: () => Pipeline;
  sync: Pick<FirewallSync, 'apply'>;
  // The daemon stopped or halted: the fleet lets go of Redis and applies nothing more.
  stopped: () => boolean;
  // Hands the daemon's decisions to the fleet as they are made.
  observe: (observer: (decision: Decision) => void) => void;
  // The link to the group's Redis: a RedisLink unless a test gives another.
  connect?: (fleet: FleetOptions, emit: (event: LogEvent) => void) => FleetLink;
}

// How long one XREAD waits: also how soon a reload's new pipeline is noticed.
const READ_BLOCK = 1000;
// Refusals past the first REFUSALS_LOGGED are summed up this often.
const SUMMARY_EVERY = 60_000;

// Starts the daemon's side of the fleet, when the config has [fleet]; returns its status.
export function startFleet(deps: DaemonFleetDeps): (() => FleetStatus) | undefined {
  const fleet = deps.config().fleet;
  if (fleet === undefined) return undefined;
  const node = new DaemonFleet(deps, fleet);
  deps.observe((decision) => node.decided(decision));
  return () => node.status(fleet);
}

// The daemon's side of the fleet: its decisions published, the group's applied through the
// pipeline's grants and bans and the firewall synchronisation, rebuilt from the group's keys
// on start, after every reconnect and after a reload.
class DaemonFleet {
  private readonly link: FleetLink;
  private readonly publisher: FleetPublisher;
  private readonly applier: FleetApplier;
  // Refusals not logged one by one yet, by reason, and when they were last summed up.
  private readonly unreported = new Map<string, number>();
  private reportedAt: number;

  constructor(private readonly deps: DaemonFleetDeps, fleet: FleetOptions) {
    const doors = (): ReadonlyMap<string, Config['doors'][number]> => new Map(this.deps.config().doors.map((door) => [door.name, door]));
    this.reportedAt = deps.clock.now();
    this.link = (deps.connect ?? ((options, emit) => new RedisLink(options, emit)))(fleet, this.deps.emit);
    this.publisher = new FleetPublisher(fleet.name, fleet.publish, doors);
    this.applier = new FleetApplier(this.target(), fleet.name,
      (now) => ({ doors: doors(), banTimeMax: this.deps.config().options.banTimeMax, subscribe: fleet.subscribe, now }),
      (reason) => {
        const refused = this.applier.counts.refused;
        if (refused <= REFUSALS_LOGGED) this.deps.emit(fleetEvents.refusedMessage(reason, refused));
        else this.unreported.set(reason, (this.unreported.get(reason) ?? 0) + 1);
      });
    this.link.start();
    void this.follow(fleet);
  }

  status(fleet: FleetOptions): FleetStatus {
    const { applied, ignored, refused } = this.applier.counts;
    return { group: fleet.group, name: fleet.name, redis: fleet.redis.text, connected: this.link.up, applied, ignored, refused };
  }

  // Each decision of this host, as it is made.
  decided(decision: Decision): void {
    const message = this.publisher.messageFor(decision);
    if (message !== undefined) void this.link.publish(message);
  }

  // Rebuilds from the keys (from the stream's tip taken before them), then follows the
  // stream; any failure means Redis went away: wait until it is back, rebuild again.
  private async follow(fleet: FleetOptions): Promise<void> {
    const link = this.link;
    let after: string | undefined;
    let seen: Pipeline | undefined;
    while (!this.deps.stopped()) {
      try {
        if (!link.up) {
          await link.whenUp(READ_BLOCK);
          continue;
        }
        if (after === undefined || seen !== this.deps.pipeline()) {
          seen = this.deps.pipeline();
          const tip = await link.tip();
          const texts = await link.snapshot();
          // What Redis answers after a stop began is not applied (nor saved in the state file).
          if (this.deps.stopped()) break;
          this.rebuild(fleet, texts);
          after = tip;
        }
        const entries = await link.read(after, READ_BLOCK);
        if (this.deps.stopped()) break;
        for (const entry of entries) {
          after = entry.id;
          this.silently((now) => this.applier.receive(entry.text, now));
        }
        this.summarise();
      } catch (error) {
        after = undefined;
        // A refused command stays refused until the ACL changes; a lost connection is the
        // link's to reconnect: this only avoids spinning before it notices.
        await new Promise((resolve) => setTimeout(resolve, link.commandFailed(error as Error) ? 5000 : 100));
      }
    }
    link.stop();
  }

  // The group's keys applied; this host's own entries in them made to match what it holds
  // (published while Redis was away, or closed meanwhile by a close door or an admin).
  private rebuild(fleet: FleetOptions, texts: readonly unknown[]): void {
    const messages = this.silently((now) => this.applier.rebuild(texts, now));
    const key = (message: FleetMessage): string => messageKey(fleet.group, message);
    const own = new Map(messages.filter((message) => message.origin === fleet.name).map((message) => [key(message), message]));
    const pipeline = this.deps.pipeline();
    const now = this.deps.clock.now();
    for (const grant of pipeline.grants()) {
      if (grant.origin !== undefined || grant.expires <= now) continue;
      const message = this.publisher.messageFor({ type: 'extend', time: now, src: grant.src, door: grant.door, expires: grant.expires });
      if (message !== undefined && !sameEnd(own.get(key(message)), message)) void this.link.publish(message);
      own.delete(grantKey(fleet.group, grant.door, grant.src));
    }
    for (const ban of pipeline.bans()) {
      if (ban.origin !== undefined || ban.until <= now || !fleet.publish.bans) continue;
      const message: FleetMessage = { kind: 'ban', src: ban.src, until: Math.round(ban.until), origin: fleet.name };
      if (!sameEnd(own.get(key(message)), message)) void this.link.publish(message);
      own.delete(key(message));
    }
    // A grant that ended here only (a logout) stays in the group until its key ends.
    const endedHere = this.publisher.endedHereAmong(messages.flatMap((message) => (message.kind === 'grant' && message.origin === fleet.name ? [`${message.door} ${message.src}`] : [])));
    for (const gone of own.values()) {
      if (gone.kind === 'grant' && endedHere.has(`${gone.door} ${gone.src}`)) continue;
      void this.link.publish(gone.kind === 'grant' ? { kind: 'close', src: gone.src, door: gone.door, origin: fleet.name } : { kind: 'unban', src: gone.src, origin: fleet.name });
    }
    const remote = pipeline.grants().filter((grant) => grant.origin !== undefined).length;
    this.deps.emit(fleetEvents.resynchronised(remote, pipeline.bans().filter((ban) => ban.origin !== undefined).length));
  }

  private summarise(): void {
    const now = this.deps.clock.now();
    if (this.unreported.size === 0 || now - this.reportedAt < SUMMARY_EVERY) return;
    this.deps.emit(fleetEvents.refusedSince(this.unreported));
    this.unreported.clear();
    this.reportedAt = now;
  }

  private silently<T>(work: (now: number) => T): T {
    return this.publisher.silently(() => work(this.deps.clock.now()));
  }

  // Remote grants and bans go into the pipeline's store and through the firewall
  // synchronisation, as this host's own do.
  private target(): FleetTarget {
    const { deps } = this;
    return {
      grant: (src, door) => deps.pipeline().grant(src, door),
      grants: () => deps.pipeline().grants(),
      bans: () => deps.pipeline().bans(),
      exempt: (src) => deps.config().options.whitelist.some((network) => networkContains(network, src)),
      openGrant: (grant: Grant, extend: boolean) => {
        const now = deps.clock.now();
        const pipeline = deps.pipeline();
        pipeline.restore([toSavedGrant(grant)], [], now);
        const live = pipeline.grant(grant.src, grant.door);
        if (live === undefined) return;
        deps.emit(fleetEvents.grantFrom(live.src, live.door, grant.origin ?? '', live.expires));
        deps.sync.apply(extend ? { type: 'extend', time: now, src: live.src, door: live.door, expires: live.expires }
          : { type: 'open', time: now, src: live.src, door: live.door, ports: live.ports, expires: live.expires });
      },
      closeGrant: (src, door) => deps.pipeline().closeGrant(src, door, deps.clock.now(), 'fleet'),
      ban: (ban: SavedBan) => {
        const now = deps.clock.now();
        const pipeline = deps.pipeline();
        pipeline.restore([], [ban], now);
        if (pipeline.bannedUntil(ban.src, now) === undefined) return;
        this.publisher.knowBan(ban.src, ban.until);
        deps.sync.apply({ type: 'banned', time: now, src: ban.src, until: ban.until, failures: 0, offense: ban.offenses, origin: ban.origin ?? 'another host' });
        // As a ban decided here does: the address loses what it opened.
        for (const grant of pipeline.grants()) if (grant.src === ban.src) pipeline.closeGrant(ban.src, grant.door, now, 'revoked');
      },
      unban: (src) => deps.pipeline().unban(src, deps.clock.now()),
    };
  }
}

function sameEnd(stored: FleetMessage | undefined, message: FleetMessage): boolean {
  if (stored === undefined) return false;
  if (stored.kind === 'grant' && message.kind === 'grant') return stored.expires === message.expires;
  return stored.kind === 'ban' && message.kind === 'ban' && stored.until === message.until;
}
