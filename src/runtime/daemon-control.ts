import type { Config } from '../config/types.js';
import type { FleetStatus } from '../fleet/fleet-status.js';
import { normalizeAddress } from '../net/address.js';
import type { LineSource } from '../sources/line-source.js';
import type { Clock } from './clock.js';
import type { ControlResult, ControlTarget, StatusReport } from './control-types.js';
import type { FirewallSync } from './firewall-sync.js';
import type { Pipeline } from './pipeline.js';
import { sourceStatus } from './source-list.js';

export interface ControlHost {
  clock: Clock;
  startedAt: () => number;
  config: () => Config;
  pipeline: () => Pipeline;
  sources: () => readonly LineSource[];
  sync: FirewallSync;
  // Writes the state file now.
  save: () => void;
  stopped: () => boolean;
}

// The running daemon as the control socket sees it. An unban or close is a decision like
// any other (firewall change, log line), made between two firewall changes so that a reload
// never misses it; the state file is written before the answer.
export class DaemonControl implements ControlTarget {
  // The fleet's status, once it started ([fleet] only).
  fleet: (() => FleetStatus) | undefined;

  constructor(private readonly host: ControlHost) {}

  status(): StatusReport {
    const { sync } = this.host;
    return {
      pid: process.pid,
      now: this.host.clock.now(),
      startedAt: this.host.startedAt(),
      config: this.host.config().file,
      firewall: { backend: sync.backend.name, lastVerify: sync.lastVerify, pending: sync.pending },
      sources: this.host.sources().map(sourceStatus),
      pipeline: this.host.pipeline().snapshot(),
      ...(this.fleet === undefined ? {} : { fleet: this.fleet() }),
    };
  }

  async unban(text: string): Promise<ControlResult> {
    const src = normalizeAddress(text);
    if (src === undefined) return notAnAddress(text);
    return await this.act((pipeline, now) => (pipeline.unban(src, now)
      ? { ok: true, message: `Lifted the ban of ${src}.` }
      : { ok: false, error: `${src} is not banned.` }));
  }

  async close(text: string, door: string | undefined): Promise<ControlResult> {
    const src = normalizeAddress(text);
    if (src === undefined) return notAnAddress(text);
    return await this.act((pipeline, now) => {
      const config = this.host.config();
      if (door !== undefined && !config.doors.some((candidate) => candidate.name === door)) {
        return { ok: false, error: `${config.file} has no door ${JSON.stringify(door)}.` };
      }
      const grants = pipeline.grants().filter((grant) => grant.src === src && (door === undefined || grant.door === door));
      if (grants.length === 0) return { ok: false, error: door === undefined ? `${src} has no open door.` : `${src} has no grant on ${door}.` };
      for (const grant of grants) pipeline.closeGrant(src, grant.door, now, 'admin');
      return { ok: true, message: `Closed ${grants.map((grant) => grant.door).join(', ')} for ${src}.` };
    });
  }

  // The answer waits for the firewall: an admin told "closed" must be able to rely on it.
  private async act(work: (pipeline: Pipeline, now: number) => ControlResult): Promise<ControlResult> {
    if (this.host.stopped()) return { ok: false, error: 'knockwatch is stopping.' };
    const { result, applied } = await this.host.sync.exclusiveApplied(() => work(this.host.pipeline(), this.host.clock.now()));
    if (!result.ok) return result;
    this.host.save();
    if (applied) return result;
    return { ok: false, error: `${result.message.replace(/\.$/, '')} in knockwatch, but the firewall change failed; knockwatch tries it again (see its log).` };
  }
}

function notAnAddress(text: string): ControlResult {
  return { ok: false, error: `${JSON.stringify(text.slice(0, 64))} is not an IP address.` };
}
