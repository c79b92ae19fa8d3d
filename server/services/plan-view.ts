// What GET /plans returns: the plan, its progress per agent state and per wave, and whether
// it is overdue. Overdue is computed from stored timestamps when read (DESIGN.md, "One
// machine first"): the first read that finds a plan overdue records it and audits it once.
import type { SluiceContext } from '../context.js';
import { planDevices, planWaves, updatePlan, type PlanRow } from '../storage/plans.js';
import { overdueReason, type PlanStatus } from '../domain/plans.js';
import { recordAudit } from '../audit.js';
import type { MaintenanceWindow } from '../domain/windows.js';
import type { WaveSpec } from '../domain/waves.js';

/** Agent states that end a device's part in a plan. */
export const finishedStates = new Set(['committed', 'failed', 'rolled_back']);
export const failedStates = new Set(['failed', 'rolled_back']);

export function planProgress(context: SluiceContext, planId: string) {
  const devices = planDevices(context.db, planId);
  const byState: Record<string, number> = {};
  const waves = new Map<number, { total: number; succeeded: number; failed: number; inProgress: number }>();
  for (const device of devices) {
    const state = device.state ?? 'pending';
    byState[state] = (byState[state] ?? 0) + 1;
    if (device.wave === null) continue;
    const counts = waves.get(device.wave) ?? { total: 0, succeeded: 0, failed: 0, inProgress: 0 };
    counts.total++;
    if (state === 'committed') counts.succeeded++;
    else if (failedStates.has(state)) counts.failed++;
    else if (state !== 'pending' && state !== 'idle') counts.inProgress++;
    waves.set(device.wave, counts);
  }
  return { total: devices.length, byState, waves, devices };
}

export function planView(context: SluiceContext, row: PlanRow, now: Date) {
  const windows = JSON.parse(row.windows) as MaintenanceWindow[];
  const reason = overdueReason({ status: row.status as PlanStatus, deadline: new Date(row.deadline), windows, confirmedWindow: row.confirmed_window === null ? undefined : windows[row.confirmed_window] } as Parameters<typeof overdueReason>[0], now);
  if (reason && row.overdue_reason !== reason) {
    context.db.transaction(() => {
      updatePlan(context.db, row.id, { overdue_reason: reason });
      recordAudit(context.db, { at: now, actor: 'system', action: 'plan.overdue', subject: `plan:${row.id}`, details: { reason, deadline: row.deadline } });
    })();
    row = { ...row, overdue_reason: reason };
  }
  const progress = planProgress(context, row.id);
  const waveRows = planWaves(context.db, row.id);
  const specs = JSON.parse(row.waves) as WaveSpec[];
  return {
    id: row.id,
    kind: row.kind,
    customer: row.customer,
    release: row.release,
    status: row.status,
    pausedFrom: row.paused_from,
    windows,
    waves: specs,
    deadline: row.deadline,
    notes: row.notes,
    details: row.details ? JSON.parse(row.details) : null,
    maxConcurrent: row.max_concurrent,
    expectedInstallSeconds: row.expected_install_seconds,
    confirmation: row.confirmed_at ? {
      window: row.confirmed_window!, by: row.confirmed_by!, at: row.confirmed_at, maintainer: JSON.parse(row.maintainer ?? 'null'),
    } : null,
    counterComment: row.counter_comment,
    documentVersion: row.document_version,
    overdue: reason !== null,
    overdueReason: reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    progress: {
      total: progress.total,
      byState: progress.byState,
      waves: waveRows.map((wave) => ({
        wave: wave.wave, status: wave.status, openedAt: wave.opened_at, finishedAt: wave.finished_at,
        ...(progress.waves.get(wave.wave) ?? { total: 0, succeeded: 0, failed: 0, inProgress: 0 }),
      })),
    },
  };
}
export type PlanView = ReturnType<typeof planView>;

/** Whole-plan totals for a progress bar: done, failed, and in flight. */
export function progressTotals(progress: { total: number; byState: Record<string, number> }) {
  const count = (state: string) => progress.byState[state] ?? 0;
  const succeeded = count('committed');
  const failed = count('failed') + count('rolled_back');
  return { total: progress.total, succeeded, failed, inProgress: progress.total - succeeded - failed - count('pending') - count('idle') };
}
