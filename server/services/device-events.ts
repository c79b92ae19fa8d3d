// What a device reports (DESIGN.md: every transition is reported) moves the plan: the first
// report starts it, each wave is judged against its failure limit (a failed wave pauses the
// plan), and the plan completes when every device has finished. The device's version
// changes only on `committed`. A report is acknowledged only once its transaction committed,
// so an acknowledged event is never lost; each verdict, pause and completion is a conditional
// update, so it happens (and is audited) once even when processes race on the same plan.
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { Plan } from '../storage/repositories/records.js';
import { SluiceError } from '../errors.js';
import { judgeWave, waveSpecOf } from '../domain/waves.js';
import { finishedStates, type AgentState } from '../../client/states.js';
import { applyTransition } from './plans.js';
import { planProgress } from './plan-view.js';

export const yankedCommitNote = 'the release was yanked before this commit: the device runs it, the plan does not count it as committed';

export interface DeviceReport {
  device: string;
  eventId: string;
  assignment: string | null;
  state: AgentState;
  detail?: string | null;
  progress?: number | null;
  at?: Date;
  /** What the download cost (docs/delta-updates.md); the plan sums it. */
  delivery?: { method: 'delta' | 'full'; bytesDownloaded: number; bytesFull: number };
}

/**
 * Records one report; false when it is a resend of one already recorded. Inside a caller's
 * transaction (`store` a transaction's), it nests and commits with it.
 */
export async function recordDeviceReport(context: SluiceContext, report: DeviceReport, store: Store = context.store): Promise<boolean> {
  const now = context.options.now();
  const finishing = finishedStates.has(report.state);
  return store.transaction(async (tx) => {
    // A report that may decide a verdict or the completion locks the plan first, so that
    // two last reports of a wave are judged one after the other, each seeing the other.
    const member = report.assignment ? await tx.plans.membership(report.assignment, report.device, { lock: finishing }) : undefined;
    if (report.assignment && !member) throw new SluiceError('not_found', `assignment "${report.assignment}" is not this device's`);
    const plan = member?.plan;
    // A commit of a yanked release is the device's truth, so it is stored and the device's
    // version follows it; but the plan does not count it as a success (docs/plans.md,
    // "Yanked releases"): the event says so, the audit log records it, and the plan's
    // progress keeps the device where it was.
    const yankedCommit = report.state === 'committed' && member?.releaseYanked === true;
    const detail = yankedCommit ? `${report.detail ? `${report.detail}; ` : ''}${yankedCommitNote}` : (report.detail ?? null);
    const recorded = await tx.devices.recordEvent({
      eventId: report.eventId,
      device: report.device,
      assignment: report.assignment,
      plan: plan?.id ?? null,
      release: plan?.release ?? null,
      state: report.state,
      detail,
      progress: report.progress ?? null,
      at: report.at ?? now,
      receivedAt: now,
    });
    if (!recorded) return false;
    const committedVersion = report.state === 'committed' ? (member?.releaseVersion ?? null) : null;
    await tx.devices.applyReport(report.device, { state: report.state, at: now, version: committedVersion });
    if (plan && report.delivery) await tx.plans.setDelivery(plan.id, report.device, report.delivery);
    if (plan && yankedCommit) {
      await tx.audit.record({
        at: now,
        actor: `device:${report.device}`,
        action: 'plan.yanked_commit',
        subject: `plan:${plan.id}`,
        details: { device: report.device, release: plan.release, version: committedVersion },
      });
    } else if (plan) {
      await advancePlan(tx, plan, report.device, report.state, now);
    }
    await context.events.emit(
      'device.state',
      {
        device: report.device,
        plan: plan?.id ?? null,
        release: plan?.release ?? null,
        state: report.state,
        detail,
        at: now,
      },
      tx,
    );
    return true;
  });
}

async function advancePlan(tx: Store, plan: Plan, device: string, state: AgentState, now: Date): Promise<void> {
  await tx.plans.setDeviceState(plan.id, device, state, now);
  let status = plan.status;
  const actor = `device:${device}`;
  if (status === 'confirmed' && state !== 'idle') status = (await applyTransition(tx, plan, 'start', actor, now)) ?? status;
  if (!finishedStates.has(state)) return;
  const progress = await planProgress(tx, plan.id);
  for (const wave of await tx.plans.waves(plan.id)) {
    if (wave.status === 'succeeded' || wave.status === 'failed') continue;
    const counts = progress.waves.get(wave.wave) ?? { total: 0, succeeded: 0, failed: 0, inProgress: 0 };
    // A plan without waves runs the domain's default wave and its failure limit.
    const verdict = judgeWave(waveSpecOf(plan.waves, wave.wave), counts);
    if (verdict === 'running') continue;
    if (!(await tx.plans.finishWave(plan.id, wave.wave, verdict, now))) continue;
    await tx.audit.record({
      at: now,
      actor: 'system',
      action: `plan.wave_${verdict}`,
      subject: `plan:${plan.id}`,
      details: { wave: wave.wave, ...counts },
    });
    if (verdict === 'failed' && (status === 'in_progress' || status === 'confirmed')) {
      // A wave whose failures exceed its limit pauses the plan (issue: plans, "Waves").
      const paused = await applyTransition(
        tx,
        { ...plan, status },
        'pause',
        'system',
        now,
        { pausedFrom: status },
        { reason: `wave ${wave.wave} exceeded its failure limit` },
      );
      if (paused) status = paused;
    }
  }
  if (progress.everyoneFinished && status === 'in_progress') await applyTransition(tx, { ...plan, status }, 'complete', 'system', now);
}
