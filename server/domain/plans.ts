// The upgrade plan lifecycle (DESIGN.md, "Upgrade plans") as a transition table:
// draft → proposed → confirmed → in_progress → completed, with countered (the customer
// proposes other windows; the vendor proposes again), paused, cancelled; overdue is a flag.
import { DateTime } from 'luxon';
import { SluiceError } from '../errors.js';
import { takeTransition } from './transition-table.js';
import { nextOccurrence, occurrenceCovering, isAsap, type MaintenanceWindow } from './windows.js';

export const planStatuses = ['draft', 'proposed', 'countered', 'confirmed', 'in_progress', 'paused', 'completed', 'cancelled'] as const;
export type PlanStatus = (typeof planStatuses)[number];
export const planEvents = ['propose', 'counter', 'confirm', 'start', 'pause', 'resume', 'complete', 'cancel'] as const;
export type PlanEvent = (typeof planEvents)[number];

export interface PlanTransition {
  from: PlanStatus;
  event: PlanEvent;
  to: PlanStatus;
  /** For `resume`: the status the plan had when it was paused. */
  pausedFrom?: PlanStatus;
}

export const planTransitions: readonly PlanTransition[] = [
  { from: 'draft', event: 'propose', to: 'proposed' },
  { from: 'countered', event: 'propose', to: 'proposed' },
  { from: 'proposed', event: 'counter', to: 'countered' },
  { from: 'proposed', event: 'confirm', to: 'confirmed' },
  { from: 'confirmed', event: 'start', to: 'in_progress' },
  { from: 'confirmed', event: 'pause', to: 'paused' },
  { from: 'in_progress', event: 'pause', to: 'paused' },
  { from: 'paused', event: 'resume', to: 'confirmed', pausedFrom: 'confirmed' },
  { from: 'paused', event: 'resume', to: 'in_progress', pausedFrom: 'in_progress' },
  { from: 'in_progress', event: 'complete', to: 'completed' },
  ...(['draft', 'proposed', 'countered', 'confirmed', 'in_progress', 'paused'] as const).map((from) => ({ from, event: 'cancel' as const, to: 'cancelled' as const })),
];

export const terminalStatuses: ReadonlySet<PlanStatus> = new Set(['completed', 'cancelled']);

export function transitionPlan(status: PlanStatus, event: PlanEvent, pausedFrom?: PlanStatus | null): PlanStatus {
  return takeTransition(planTransitions, 'plan', status, event, (row) => row.pausedFrom === undefined || row.pausedFrom === (pausedFrom ?? 'confirmed')).to;
}

/**
 * The contract: an upgrade that does not disrupt the customer's business must be done within
 * one month. One calendar month after publication, in UTC; a day that does not exist in the
 * next month clamps to its last day (31 January → 28 or 29 February).
 */
export function defaultDeadline(publishedAt: Date): Date {
  return DateTime.fromJSDate(publishedAt, { zone: 'utc' }).plus({ months: 1 }).toJSDate();
}

export type OverdueReason = 'no_window_before_deadline' | 'unconfirmed_past_deadline' | 'unfinished_past_deadline';

export interface PlanForDeadline {
  status: PlanStatus;
  deadline: Date;
  windows: MaintenanceWindow[];
  /** Once confirmed, only the confirmed window counts. */
  confirmedWindow?: MaintenanceWindow;
}

/** Whether a window still has an occurrence that starts (or is running) before the deadline. */
export function hasOccurrenceBefore(window: MaintenanceWindow, now: Date, deadline: Date): boolean {
  if (isAsap(window)) return now < deadline;
  if (occurrenceCovering(window, now)) return true;
  const next = nextOccurrence(window, now);
  return next !== null && next.start < deadline;
}

/** Plans that cannot finish by the deadline are flagged overdue (issue: plans, "Deadline"). */
export function overdueReason(plan: PlanForDeadline, now: Date): OverdueReason | null {
  if (terminalStatuses.has(plan.status)) return null;
  const unconfirmed = plan.status === 'draft' || plan.status === 'proposed' || plan.status === 'countered';
  if (now >= plan.deadline) return unconfirmed ? 'unconfirmed_past_deadline' : 'unfinished_past_deadline';
  const windows = plan.confirmedWindow ? [plan.confirmedWindow] : plan.windows;
  if (!windows.some((window) => hasOccurrenceBefore(window, now, plan.deadline))) return 'no_window_before_deadline';
  return null;
}

/** Proposed windows must be usable: not over, and with an occurrence before the deadline. */
export function validatePlanWindows(windows: MaintenanceWindow[], deadline: Date, now: Date): void {
  if (deadline <= now) throw new SluiceError('validation_failed', `the deadline ${deadline.toISOString()} has already passed`);
  windows.forEach((window, index) => {
    if (!hasOccurrenceBefore(window, now, deadline)) {
      throw new SluiceError('no_window_before_deadline', `window ${index} has no occurrence between now and the deadline ${deadline.toISOString()}`, { window: index });
    }
  });
}
