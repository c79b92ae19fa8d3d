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

/**
 * Clocks run in wall time for every class. The contract names A and B "around the clock";
 * should C and D ever count business hours only, this is the one place to change.
 */
export function clockEnd(start: Date, durationMs: number): Date {
  return new Date(start.getTime() + durationMs);
}

export interface FaultClock { class: FaultClass; severity: FaultSeverity; reportedAt: Date; acknowledgedAt?: Date | null; resolvedAt?: Date | null }

export function dueTimes(fault: FaultClock): { acknowledgeBy: Date; resolveBy: Date | null } {
  const resolve = resolveWithin[fault.class];
  return {
    acknowledgeBy: clockEnd(fault.reportedAt, acknowledgeWithin[fault.class]),
    resolveBy: resolve ? clockEnd(fault.reportedAt, resolve[fault.severity]) : null,
  };
}

/** Past a due time without the step done is a breach; a step done late is one too. */
export function breaches(fault: FaultClock, now: Date): { acknowledge: boolean; resolve: boolean } {
  const due = dueTimes(fault);
  const acknowledged = fault.acknowledgedAt ?? null;
  const resolved = fault.resolvedAt ?? null;
  return {
    acknowledge: (acknowledged ?? now) > due.acknowledgeBy && !(acknowledged === null && resolved !== null && resolved <= due.acknowledgeBy),
    resolve: due.resolveBy !== null && (resolved ?? now) > due.resolveBy,
  };
}

/** Faults of one class and severity reported before `reportedBefore` are late on a clock. */
export interface LateCutoff { class: FaultClass; severity: FaultSeverity; reportedBefore: Date }

/**
 * Per class and severity, the report time before which a fault whose step is still not
 * taken has broken that clock at `now`: what `breaches` decides for such a fault, turned
 * into a bound a count over stored rows can use. It inverts `clockEnd`, so the two change
 * together.
 */
export function lateCutoffs(now: Date): { acknowledge: LateCutoff[]; resolve: LateCutoff[] } {
  const acknowledge: LateCutoff[] = [];
  const resolve: LateCutoff[] = [];
  for (const faultClass of faultClasses) {
    for (const severity of ['major', 'general'] as const) {
      acknowledge.push({ class: faultClass, severity, reportedBefore: new Date(now.getTime() - acknowledgeWithin[faultClass]) });
      const within = resolveWithin[faultClass]?.[severity];
      if (within !== undefined) resolve.push({ class: faultClass, severity, reportedBefore: new Date(now.getTime() - within) });
    }
  }
  return { acknowledge, resolve };
}
