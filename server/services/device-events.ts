// What a device reports (DESIGN.md: every transition is reported) moves the plan: the first
// report starts it, each wave is judged against its failure limit (a failed wave pauses the
// plan), and the plan completes when every device has finished. The device's version
// changes only on `committed`.
import type { SluiceContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { recordAudit } from '../audit.js';
import { getPlanRow, planWaves, setPlanDeviceState, upsertPlanWave, type PlanRow } from '../storage/plans.js';
import { getRelease } from '../storage/releases.js';
import { judgeWave, type WaveSpec } from '../domain/waves.js';
import type { PlanStatus } from '../domain/plans.js';
import { applyTransition } from './plans.js';
import { planProgress, finishedStates } from './plan-view.js';

export const agentStates = [
  'idle', 'downloading', 'downloaded', 'verified', 'staged', 'waiting_window', 'installing',
  'health_check', 'committed', 'rolling_back', 'rolled_back', 'failed',
] as const;
export type AgentState = (typeof agentStates)[number];

export interface DeviceReport {
  device: string;
  eventId: string;
  assignment: string | null;
  state: AgentState;
  detail?: string | null;
  progress?: number | null;
  at?: Date;
}

/** Records one report; returns false when it is a resend of one already recorded. */
export function recordDeviceReport(context: SluiceContext, report: DeviceReport): boolean {
  const { db } = context;
  const now = context.options.now();
  return db.transaction(() => {
    const existing = db.prepare('SELECT 1 FROM device_events WHERE event_id = ?').get(report.eventId);
    if (existing) return false;
    const plan = report.assignment ? getPlanRow(db, report.assignment) : undefined;
    if (report.assignment && (!plan || !db.prepare('SELECT 1 FROM plan_devices WHERE plan = ? AND device = ?').get(report.assignment, report.device))) {
      throw new SluiceError('not_found', `assignment "${report.assignment}" is not this device's`);
    }
    const at = report.at ?? now;
    db.prepare(`INSERT INTO device_events (device, event_id, assignment, plan, release, state, detail, progress, at, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      report.device, report.eventId, report.assignment, plan?.id ?? null, plan?.release ?? null, report.state,
      report.detail ?? null, report.progress ?? null, at.toISOString(), now.toISOString());
    db.prepare('UPDATE devices SET state = ?, last_seen_at = ? WHERE id = ?').run(report.state, now.toISOString(), report.device);
    if (report.state === 'committed' && plan?.release) {
      const release = getRelease(db, plan.release)!;
      db.prepare('UPDATE devices SET version = ? WHERE id = ?').run(release.version, report.device);
    }
    if (plan) advancePlan(context, plan, report.device, report.state, now);
    void context.events.emit('device.state', { device: report.device, plan: plan?.id ?? null, release: plan?.release ?? null, state: report.state, detail: report.detail ?? null, at: now }, context.store);
    return true;
  })();
}

function advancePlan(context: SluiceContext, plan: PlanRow, device: string, state: AgentState, now: Date): void {
  const { db } = context;
  setPlanDeviceState(db, plan.id, device, state, now);
  const actor = `device:${device}`;
  if (plan.status === 'confirmed' && state !== 'idle') {
    applyTransition(context, plan, 'start', actor);
    plan = getPlanRow(db, plan.id)!;
  }
  if (!finishedStates.has(state)) return;
  const progress = planProgress(context, plan.id);
  const specs = JSON.parse(plan.waves) as WaveSpec[];
  for (const wave of planWaves(db, plan.id)) {
    if (wave.status === 'succeeded' || wave.status === 'failed') continue;
    const counts = progress.waves.get(wave.wave) ?? { total: 0, succeeded: 0, failed: 0, inProgress: 0 };
    const verdict = judgeWave(specs[wave.wave] ?? specs[specs.length - 1] ?? defaultWave, counts);
    if (verdict === 'running') continue;
    upsertPlanWave(db, { ...wave, status: verdict, finished_at: now.toISOString() });
    recordAudit(db, { at: now, actor: 'system', action: `plan.wave_${verdict}`, subject: `plan:${plan.id}`, details: { wave: wave.wave, ...counts } });
    if (verdict === 'failed' && (plan.status === 'in_progress' || plan.status === 'confirmed')) {
      // A wave whose failures exceed its limit pauses the plan (issue: plans, "Waves").
      applyTransition(context, plan, 'pause', 'system', { paused_from: plan.status }, { reason: `wave ${wave.wave} exceeded its failure limit` });
      plan = getPlanRow(db, plan.id)!;
    }
  }
  const everyoneFinished = progress.devices.every((row) => row.state !== null && finishedStates.has(row.state));
  if (everyoneFinished && plan.status === 'in_progress') applyTransition(context, plan, 'complete', 'system');
}

const defaultWave: WaveSpec = { failureLimit: { percent: 100 } } as WaveSpec;

export function isPlanLive(status: string): status is PlanStatus {
  return status === 'confirmed' || status === 'in_progress';
}
