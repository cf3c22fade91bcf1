import type { FleetStatus } from '../fleet/fleet-status.js';
import type { PipelineSnapshot } from './pipeline.js';

// What `knockwatch status` shows, as the daemon answers it over the control socket.
export interface StatusReport {
  pid: number;
  // Host clock time of the answer (ms since the epoch).
  now: number;
  startedAt: number;
  config: string;
  firewall: {
    backend: string;
    // The last comparison of the installed ruleset with what should be there.
    lastVerify: { at: number; ok: boolean } | undefined;
    // Firewall changes waiting or being retried.
    pending: number;
  };
  sources: SourceStatus[];
  pipeline: PipelineSnapshot;
  // With [fleet] only.
  fleet?: FleetStatus | undefined;
}

export interface SourceStatus {
  // What is read: a file path, later kmsg or the journal.
  name: string;
  kind: string;
  // Where reading would resume, as saved in the state file (kind-specific, plain data).
  position: unknown;
  // Bytes (or records) known to be waiting, when the source can tell.
  lag: number | undefined;
  // Host time of the last line read.
  lastLineAt: number | undefined;
}

export type ControlResult = { ok: true; message: string } | { ok: false; error: string };

// What the control socket asks of the running daemon.
export interface ControlTarget {
  status(): StatusReport;
  unban(src: string): Promise<ControlResult>;
  // Closes src's grant on door, or on every door when none is given.
  close(src: string, door: string | undefined): Promise<ControlResult>;
}
