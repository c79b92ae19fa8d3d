// The upgrade plan lifecycle (DESIGN.md, "Upgrade plans") as a transition table:
// draft → proposed → confirmed → in_progress → completed, with countered (the customer
// proposes other windows; the vendor proposes again), paused, cancelled; overdue is a flag.
import { DateTime } from 'luxon';
import { SluiceError } from '../errors.js';
import { takeTransition } from './transition-table.js';
import { nextOccurrence, occurrenceCovering, isAsap, isOneOff, type MaintenanceWindow } from './windows.js';

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
  ...(['draft', 'proposed', 'countered', 'confirmed', 'in_progress', 'paused'] as const).map((from) => ({
    from,
    event: 'cancel' as const,
    to: 'cancelled' as const,
  })),
];

export const terminalStatuses: ReadonlySet<PlanStatus> = new Set(['completed', 'cancelled']);

/** Plans whose devices may act (download at any time, install in the window). */
export const liveStatuses: ReadonlySet<PlanStatus> = new Set(['confirmed', 'in_progress']);

/**
 * Plans whose waves are drawn and whose rollout is not over: a device the customer adds now
 * joins them (in their last wave, waves.ts lateDeviceWave) rather than being forgotten.
 */
export const lateJoiningStatuses: ReadonlySet<PlanStatus> = new Set(['confirmed', 'in_progress', 'paused']);

/**
 * One lifecycle step by the table, or SluiceError('illegal_transition') naming the current
 * status. `paused` remembers where to resume: the caller stores the status the plan had when
 * it was paused and passes it back as `pausedFrom`; `resume` takes the row whose `pausedFrom`
 * matches. Without it, resume goes to `confirmed`, which is safe: the first device report
 * starts a confirmed plan again (confirmed → in_progress).
 */
export function transitionPlan(status: PlanStatus, event: PlanEvent, pausedFrom?: PlanStatus | null): PlanStatus {
  return takeTransition(
    planTransitions,
    'plan',
    status,
    event,
    (row) => row.pausedFrom === undefined || row.pausedFrom === (pausedFrom ?? 'confirmed'),
  ).to;
}

/**
 * DESIGN.md, "Upgrade plans": the deadline defaults to "one month after the release was
 * published, the contract's limit for upgrades that do not affect the customer's business".
 * One calendar month in UTC (luxon's plus({ months: 1 })): same day and time next month; a day
 * the next month lacks clamps to its last day (31 January → 28 or 29 February, 31 March →
 * 30 April). The clock time is kept exactly, so the span is 28 to 31 days.
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

/**
 * Whether a window still has an occurrence that is running at `now` or starts before the
 * deadline. An emergency window ("as soon as the customer consents") is usable until then.
 */
export function hasOccurrenceBefore(window: MaintenanceWindow, now: Date, deadline: Date): boolean {
  if (isAsap(window)) return now < deadline;
  if (occurrenceCovering(window, now)) return true;
  const next = nextOccurrence(window, now);
  return next !== null && next.start < deadline;
}

const unconfirmedStatuses: ReadonlySet<PlanStatus> = new Set(['draft', 'proposed', 'countered']);

/**
 * DESIGN.md: "a plan past its deadline flagged as overdue"; the issue adds plans that cannot
 * finish by it. Terminal plans are never overdue. Past the deadline: unconfirmed or
 * unfinished. Before it: overdue already when no usable window (the confirmed one, once
 * confirmed) has an occurrence left before the deadline.
 */
export function overdueReason(plan: PlanForDeadline, now: Date): OverdueReason | null {
  if (terminalStatuses.has(plan.status)) return null;
  if (now >= plan.deadline) return unconfirmedStatuses.has(plan.status) ? 'unconfirmed_past_deadline' : 'unfinished_past_deadline';
  const windows = plan.confirmedWindow ? [plan.confirmedWindow] : plan.windows;
  if (!windows.some((window) => hasOccurrenceBefore(window, now, plan.deadline))) return 'no_window_before_deadline';
  return null;
}

/**
 * Proposed (or countered) windows must be usable: the deadline is still ahead, and every
 * window has an occurrence running now or starting before the deadline (a one-off window
 * that already ended, or a recurring one whose next start is after the deadline, is refused
 * with no_window_before_deadline, naming the window).
 */
export function validatePlanWindows(windows: MaintenanceWindow[], deadline: Date, now: Date): void {
  if (deadline <= now) throw new SluiceError('validation_failed', `the deadline ${deadline.toISOString()} has already passed`);
  windows.forEach((window, index) => {
    if (hasOccurrenceBefore(window, now, deadline)) return;
    const next = nextOccurrence(window, now);
    const why = next
      ? `its next occurrence starts ${next.start.toISOString()}, after the deadline ${deadline.toISOString()}`
      : isOneOff(window)
        ? 'it has already ended'
        : `it has no occurrence before the deadline ${deadline.toISOString()}`;
    throw new SluiceError('no_window_before_deadline', `window ${index} cannot be used: ${why}`, { window: index });
  });
}
