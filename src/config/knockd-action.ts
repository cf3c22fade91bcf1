import type { DoorStep } from './types.js';

// What a knockd command does to the firewall for %IP%, when it follows a common idiom: it adds
// or deletes an accept for ports, or adds an address to / deletes it from an nftables set
// (whose ports are not in the command).
export type KnockdAction =
  | { op: 'add' | 'delete'; target: 'ports'; ports: readonly DoorStep[] }
  | { op: 'add' | 'delete'; target: 'set'; set: string; timeout: number | undefined };
