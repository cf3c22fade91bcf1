import type { Grant } from '../grants/grant-table.js';

// The one place that changes the firewall. Managed backends own their whole piece of it.
export interface FirewallBackend {
  readonly name: string;
  // Installs what knockwatch owns (gate, knock LOG rules, whitelist); idempotent.
  start(): Promise<void>;
  open(grant: Grant): Promise<void>;
  extend(grant: Grant): Promise<void>;
  close(grant: Grant): Promise<void>;
  // Removes everything knockwatch installed except what must survive it (the whitelist).
  stop(): Promise<void>;
}
