import type { DoorStep } from '../config/types.js';

export type BreakReason = 'wrong-port' | 'timeout' | 'strict' | 'trap' | 'evicted';

export type Decision =
  | { type: 'step'; time: number; src: string; door: string; step: number; of: number; knock: DoorStep }
  | { type: 'retransmit'; time: number; src: string; knock: DoorStep; spt: number }
  | { type: 'flags'; time: number; src: string; door: string; knock: DoorStep; flags: string; expected: string }
  | { type: 'completed'; time: number; src: string; door: string }
  | { type: 'broken'; time: number; src: string; door: string; reason: BreakReason; detail: string }
  | { type: 'trapped'; time: number; src: string; until: number; knock: DoorStep }
  | { type: 'refused'; time: number; src: string; until: number; reason: 'trapped' | 'banned' }
  | { type: 'open'; time: number; src: string; door: string; ports: readonly DoorStep[]; expires: number }
  | { type: 'extend'; time: number; src: string; door: string; expires: number }
  | { type: 'close'; time: number; src: string; door: string; by: string }
  | { type: 'expire'; time: number; src: string; door: string }
  | { type: 'login'; time: number; src: string; user: string; pid: number }
  | { type: 'logout'; time: number; src: string; pid: number; closeAt: number }
  | { type: 'failure'; time: number; src: string; count: number }
  | { type: 'banned'; time: number; src: string; until: number; failures: number; offense: number }
  | { type: 'unbanned'; time: number; src: string };

export type DecisionType = Decision['type'];
