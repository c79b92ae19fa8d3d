// What GET /plans returns: the plan, its progress per agent state and per wave, and whether
// it is overdue. Overdue is computed from stored timestamps when read (DESIGN.md, "One
// machine first"): the first read that finds a plan overdue records it by a conditional
// update, and only the read whose update changed the row audits it, so N processes reading
// the same plan audit it once.
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { Plan } from '../storage/repositories/records.js';
import { overdueReason } from '../domain/plans.js';
import { tallyPlan } from '../domain/waves.js';
import { failedStates } from '../../client/states.js';
import { customerDetails } from './plan-document.js';
import type { PlanType } from '../../protocol/index.js';

/** The plan's progress: devices per agent state and per wave, and whether all have finished. */
export async function planProgress(store: Store, plan: string) {
  return tallyPlan(await store.plans.stateCounts(plan));
}

const iso = (value: Date | null) => value?.toISOString() ?? null;

export async function planView(context: SluiceContext, plan: Plan, now: Date, store: Store = context.store): Promise<PlanType> {
  const confirmedWindow = plan.confirmedWindow === null ? undefined : plan.windows[plan.confirmedWindow];
  const reason = overdueReason({ status: plan.status, deadline: plan.deadline, windows: plan.windows, confirmedWindow }, now);
  if (reason && plan.overdueReason !== reason) {
    await store.transaction(async (tx) => {
      if (!(await tx.plans.flagOverdue(plan.id, reason))) return;
      await tx.audit.record({
        at: now,
        actor: 'system',
        action: 'plan.overdue',
        subject: `plan:${plan.id}`,
        details: { reason, deadline: plan.deadline.toISOString() },
      });
    });
  }
  const progress = await planProgress(store, plan.id);
  const waves = await store.plans.waves(plan.id);
  const delivery = deliverySummary(await store.plans.deliveryTotals(plan.id));
  return {
    id: plan.id,
    kind: plan.kind,
    customer: plan.customer,
    release: plan.release,
    status: plan.status,
    pausedFrom: plan.pausedFrom,
    windows: plan.windows,
    waves: plan.waves,
    deadline: plan.deadline.toISOString(),
    notes: plan.notes,
    // Internal notes stay with the vendor's console, which reads them from the plan itself.
    details: customerDetails(plan.details) as PlanType['details'],
    maxConcurrent: plan.maxConcurrent,
    expectedInstallSeconds: plan.expectedInstallSeconds,
    confirmation: plan.confirmedAt
      ? {
          window: plan.confirmedWindow!,
          by: plan.confirmedBy!,
          at: plan.confirmedAt.toISOString(),
          maintainer: plan.maintainer,
        }
      : null,
    counterComment: plan.counterComment,
    documentVersion: plan.documentVersion,
    overdue: reason !== null,
    overdueReason: reason,
    createdBy: plan.createdBy,
    createdAt: plan.createdAt.toISOString(),
    updatedAt: plan.updatedAt.toISOString(),
    progress: {
      total: progress.total,
      byState: progress.byState,
      waves: waves.map((wave) => ({
        wave: wave.wave,
        status: wave.status,
        openedAt: iso(wave.openedAt),
        finishedAt: iso(wave.finishedAt),
        ...(progress.waves.get(wave.wave) ?? { total: 0, succeeded: 0, failed: 0, inProgress: 0 }),
      })),
    },
    delivery,
  };
}

/**
 * The plan's downloads (docs/delta-updates.md): over the devices that have downloaded, the
 * bytes they fetched against the artifact's full size, and how many did so by delta.
 */
export function deliverySummary(totals: { method: string; devices: number; bytesDownloaded: number; bytesFull: number }[]) {
  const sum = (pick: (row: (typeof totals)[number]) => number) => totals.reduce((total, row) => total + pick(row), 0);
  const bytesDownloaded = sum((row) => row.bytesDownloaded);
  const bytesFull = sum((row) => row.bytesFull);
  return {
    devices: sum((row) => row.devices),
    deltaDevices: sum((row) => (row.method === 'delta' ? row.devices : 0)),
    bytesDownloaded,
    bytesFull,
    bytesSaved: Math.max(0, bytesFull - bytesDownloaded),
  };
}
export type PlanView = Awaited<ReturnType<typeof planView>>;

/** Whole-plan totals for a progress bar: done, failed, and in flight. */
export function progressTotals(progress: { total: number; byState: Record<string, number> }) {
  const count = (state: string) => progress.byState[state] ?? 0;
  const succeeded = count('committed');
  const failed = [...failedStates].reduce((sum, state) => sum + count(state), 0);
  return { total: progress.total, succeeded, failed, inProgress: progress.total - succeeded - failed - count('pending') - count('idle') };
}
