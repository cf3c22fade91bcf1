import type { DoorStep } from '../config/types.js';
import type { Refusal } from '../doors/door-kind.js';

// Why an attempt broke, as data; src/cli/format-decision.ts words it.
export type BreakReason =
  // order = sequence: the step that was due (undefined only if the attempt had none left,
  // which an attempt in progress always has).
  | { reason: 'wrong-port'; got: DoorStep; step: number; expected: DoorStep | undefined }
  // order = any: the knock is none of the steps still missing.
  | { reason: 'wrong-port'; got: DoorStep; missing: readonly DoorStep[] }
  | { reason: 'timeout'; got: number; of: number; within: number }
  // step_timeout: step `step` did not come within `within` ms of the one before.
  | { reason: 'step-timeout'; step: number; within: number }
  // A strict door saw another packet: a TCP/UDP port, or ICMP.
  // An echo request as the icmp:N step it would be; any other ICMP packet as 'icmp'.
  | { reason: 'strict'; got: DoorStep | 'icmp' }
  | { reason: 'trap'; port: DoorStep }
  // More than `cap` (max_tracked) sources were tracked; this one was the oldest.
  | { reason: 'evicted'; cap: number }
  // A completed sequence the door refused, and why (src/doors/door-kind.ts): 'used' (a
  // one-time sequence another source used up first), 'unmarked' (a one-time sequence whose
  // line the file could not take), 'window-gone' (a rotating window that turned out of skew
  // during the knock), 'window-used' (once_per_window: the source used that window already).
  | { reason: Refusal };

// Why a grant is closed when no close door closed it.
export type CloseReason = 'admin' | 'fleet' | 'forget' | 'logout' | 'not applied' | 'revoked' | 'wrong-knock';

export type Decision =
  | { type: 'step'; time: number; src: string; door: string; step: number; of: number; knock: DoorStep }
  | { type: 'retransmit'; time: number; src: string; knock: DoorStep; spt: number }
  | { type: 'flags'; time: number; src: string; door: string; knock: DoorStep; flags: string; expected: string }
  | { type: 'completed'; time: number; src: string; door: string }
  | ({ type: 'broken'; time: number; src: string; door: string } & BreakReason)
  | { type: 'trapped'; time: number; src: string; until: number; knock: DoorStep }
  | { type: 'refused'; time: number; src: string; until: number; reason: 'trapped' | 'banned' }
  | { type: 'open'; time: number; src: string; door: string; ports: readonly DoorStep[]; expires: number }
  | { type: 'extend'; time: number; src: string; door: string; expires: number }
  // `by`: the close door's name when `byDoor`, otherwise why (admin, logout, revoked, ...):
  // a door may be named like a reason.
  | { type: 'close'; time: number; src: string; door: string; by: string; byDoor?: true }
  | { type: 'expire'; time: number; src: string; door: string }
  | { type: 'login'; time: number; src: string; user: string; pid: number }
  | { type: 'logout'; time: number; src: string; pid: number; closeAt: number }
  | { type: 'failure'; time: number; src: string; count: number }
  | { type: 'banned'; time: number; src: string; until: number; failures: number; offense: number; origin?: string }
  | { type: 'unbanned'; time: number; src: string };

export type DecisionType = Decision['type'];
