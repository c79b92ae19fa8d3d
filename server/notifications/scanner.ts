// Timed events, found by the worker's scan of stored timestamps (DESIGN.md, "One machine
// first, many later": never an in-process timer alone): fault clock warnings and breaches,
// overdue plans, reminders before confirmed windows, lapsed consents. Each is keyed by what
// it is about (`fault.breached:F-1001:acknowledge`), so however many processes scan, and
// however often, it is recorded once.
import type { SluiceContext } from '../context.js';
import type { Plan } from '../storage/repositories/records.js';
import { faultClocks, type ClockState } from '../domain/fault-clock.js';
import { overdueReason } from '../domain/plans.js';
import { isAsap, nextOccurrence } from '../domain/windows.js';
import { faultClockContexts } from '../services/faults.js';
import { consentExpiredNotification } from '../services/support-sessions.js';
import { notify, type NotificationInput } from './outbox.js';

/** A lapsed consent older than this is history, not news (a server down for a week stays quiet). */
const consentLookbackMs = 7 * 24 * 3600_000;
const unresolved = new Set(['open', 'acknowledged', 'fix_available']);
const remindable = new Set(['confirmed', 'in_progress']);

async function record(context: SluiceContext, input: NotificationInput & { key: string }): Promise<boolean> {
  if (await context.store.notifications.hasKey(input.key)) return false;
  return context.store.transaction((tx) => notify(tx, input));
}

/**
 * The reminder due at `now` before the window that starts at `start`: the nearest of the
 * configured lead times already reached, so that a window confirmed an hour before it
 * starts gets the 1 h reminder only, and none comes after another one nearer the start.
 */
export function reminderDue(start: Date, now: Date, leadHours: readonly number[]): number | null {
  if (now >= start) return null;
  const reached = leadHours.filter((hours) => now.getTime() >= start.getTime() - hours * 3600_000);
  return reached.length ? Math.min(...reached) : null;
}

export async function scanTimedEvents(context: SluiceContext, now: Date): Promise<number> {
  let recorded = 0;
  const faults = (await context.store.faults.list({ unclosed: true, limit: 1000 })).filter((fault) => unresolved.has(fault.status));
  // Each fault counts on its customer's contract terms, less its waits on the customer.
  const contexts = await faultClockContexts(context, faults);
  for (const fault of faults) {
    const { setting, pauses } = contexts.get(fault.id)!;
    const clocks = faultClocks({ ...fault, pauses }, now, setting);
    const running: [string, ClockState | null][] = [
      ['acknowledge', fault.acknowledgedAt ? null : clocks.acknowledge],
      ['resolve', clocks.resolve],
    ];
    for (const [name, clock] of running) {
      if (!clock || clock.doneAt) continue;
      const breached = now > clock.dueAt;
      // A paused clock cannot breach, and its warning waits until it runs again.
      if (!breached && (clocks.paused || now < clock.warnAt)) continue;
      const event = breached ? 'fault.breached' : 'fault.clock_warning';
      recorded += Number(
        await record(context, {
          event,
          subject: `fault:${fault.id}`,
          key: `${event}:${fault.id}:${name}`,
          customer: fault.customer,
          faultClass: fault.class,
          at: now,
          data: {
            fault: fault.id,
            class: fault.class,
            severity: fault.severity,
            title: fault.title,
            clock: name,
            dueAt: clock.dueAt.toISOString(),
            serviceHours: clocks.serviceHours,
            pausedSeconds: Math.round(clocks.pausedMs / 1000),
            remainingSeconds: Math.max(0, Math.round((clock.withinMs - clock.countedMs) / 1000)),
          },
        }),
      );
    }
  }
  for (const plan of await context.store.plans.list({})) recorded += await scanPlan(context, plan, now);
  for (const session of await context.store.notifications.lapsedConsents(now, new Date(now.getTime() - consentLookbackMs))) {
    recorded += Number(await record(context, consentExpiredNotification(session, now)));
  }
  return recorded;
}

async function scanPlan(context: SluiceContext, plan: Plan, now: Date): Promise<number> {
  let recorded = 0;
  const confirmedWindow = plan.confirmedWindow === null ? undefined : plan.windows[plan.confirmedWindow];
  const reason = overdueReason({ status: plan.status, deadline: plan.deadline, windows: plan.windows, confirmedWindow }, now);
  if (reason) {
    recorded += Number(
      await record(context, {
        event: 'plan.overdue',
        subject: `plan:${plan.id}`,
        key: `plan.overdue:${plan.id}:${reason}`,
        customer: plan.customer,
        at: now,
        data: { plan: plan.id, release: plan.release, status: plan.status, reason, deadline: plan.deadline.toISOString() },
      }),
    );
  }
  if (!remindable.has(plan.status) || !confirmedWindow || isAsap(confirmedWindow)) return recorded;
  const next = nextOccurrence(confirmedWindow, now);
  const hours = next && reminderDue(next.start, now, context.options.windowReminderHours);
  if (!next || hours === null) return recorded;
  recorded += Number(
    await record(context, {
      event: 'window.reminder',
      subject: `plan:${plan.id}`,
      key: `window.reminder:${plan.id}:${next.start.toISOString()}:${hours}h`,
      customer: plan.customer,
      at: now,
      data: {
        plan: plan.id,
        release: plan.release,
        hoursBefore: hours,
        start: next.start.toISOString(),
        end: next.end.toISOString(),
        timezone: 'timezone' in confirmedWindow ? confirmedWindow.timezone : null,
        maintainer: plan.maintainer,
      },
    }),
  );
  return recorded;
}
