// Faults and their contractual clocks (DESIGN.md, "Faults and remote support"):
// response is immediate for every class; processing must start within A 15 min, B 30 min,
// C 45 min, D 2 h of the report; A and B are served 24×7 and resolved within 1 h (major) or
// 2 h (general); C and D may be fixed by a later release (no resolution clock).
import { SluiceError } from '../errors.js';
import { takeTransition } from './transition-table.js';

export const faultClasses = ['A', 'B', 'C', 'D'] as const;
export type FaultClass = (typeof faultClasses)[number];
export type FaultSeverity = 'major' | 'general';
export const faultStatuses = ['open', 'acknowledged', 'fix_available', 'resolved', 'closed'] as const;
export type FaultStatus = (typeof faultStatuses)[number];
export type FaultEvent = 'acknowledge' | 'fix_available' | 'resolve' | 'close';

export const faultTransitions: readonly { from: FaultStatus; event: FaultEvent; to: FaultStatus }[] = [
  { from: 'open', event: 'acknowledge', to: 'acknowledged' },
  { from: 'open', event: 'fix_available', to: 'fix_available' },
  { from: 'acknowledged', event: 'fix_available', to: 'fix_available' },
  { from: 'open', event: 'resolve', to: 'resolved' },
  { from: 'acknowledged', event: 'resolve', to: 'resolved' },
  { from: 'fix_available', event: 'resolve', to: 'resolved' },
  { from: 'resolved', event: 'close', to: 'closed' },
  { from: 'fix_available', event: 'close', to: 'closed' },
];

export function transitionFault(status: FaultStatus, event: FaultEvent): FaultStatus {
  return takeTransition(faultTransitions, 'fault', status, event).to;
}

const minute = 60_000;
/** Processing must start within these (the contract's clocks). */
export const acknowledgeWithin: Record<FaultClass, number> = { A: 15 * minute, B: 30 * minute, C: 45 * minute, D: 120 * minute };
/** A and B only; C and D may wait for a later release. */
export const resolveWithin: Record<FaultClass, Record<FaultSeverity, number> | null> = {
  A: { major: 60 * minute, general: 120 * minute },
  B: { major: 60 * minute, general: 120 * minute },
  C: null,
  D: null,
};

export function parseFaultClass(value: unknown): FaultClass {
  if (typeof value === 'string' && (faultClasses as readonly string[]).includes(value)) return value as FaultClass;
  throw new SluiceError('validation_failed', `fault class must be one of A, B, C, D, not ${JSON.stringify(value)}`);
}

export interface FaultClock {
  class: FaultClass;
  severity: FaultSeverity;
  reportedAt: Date;
  acknowledgedAt?: Date | null;
  resolvedAt?: Date | null;
}

// The clocks themselves (service hours, pauses, warnings) live in fault-clock.ts, the one
// home of the rule; these names stay importable from here.
export { dueTimes, breaches, lateCutoffs, type LateCutoff } from './fault-clock.js';
