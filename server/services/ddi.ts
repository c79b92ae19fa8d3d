// hawkBit DDI actions over sluice's plans: a DDI device gets its deployment only when its plan
// and wave say so (the same assignment as sluice's own agent), and its feedback is recorded as
// the same device reports.
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import { SluiceError } from '../errors.js';
import type { DeviceRow } from '../storage/identity.js';
import { getPlanRow } from '../storage/plans.js';
import { assignmentForDevice } from './checkin.js';
import { recordDeviceReport, type AgentState } from './device-events.js';
import { stateForFeedback } from '../domain/ddi.js';

export interface DdiAction { id: number; plan: string; device: string; status: 'open' | 'canceling' | 'closed' | 'canceled'; last_update: string | null; created_at: string; closed_at: string | null }

const openActionOf = (context: SluiceContext, device: string) =>
  context.db.prepare("SELECT * FROM ddi_actions WHERE device = ? AND status IN ('open', 'canceling') ORDER BY id DESC LIMIT 1").get(device) as DdiAction | undefined;

export const getAction = (context: SluiceContext, id: number) => context.db.prepare('SELECT * FROM ddi_actions WHERE id = ?').get(id) as DdiAction | undefined;

/**
 * What the controller base resource offers: a deployment for the device's live assignment, or
 * a cancel action when the plan behind an open action was cancelled.
 */
export function controllerState(context: SluiceContext, device: DeviceRow, now: Date) {
  const { db } = context;
  const open = openActionOf(context, device.id);
  if (open) {
    const plan = getPlanRow(db, open.plan);
    if (plan?.status === 'cancelled' || open.status === 'canceling') {
      if (open.status === 'open') db.prepare("UPDATE ddi_actions SET status = 'canceling' WHERE id = ?").run(open.id);
      return { cancel: open.id, deployment: null, assignment: null };
    }
  }
  const assignment = assignmentForDevice(context, device, now);
  if (!assignment) return { cancel: null, deployment: null, assignment: null };
  let action = open && open.plan === assignment.plan ? open : undefined;
  if (!action) {
    const result = db.prepare("INSERT INTO ddi_actions (plan, device, status, created_at) VALUES (?, ?, 'open', ?)").run(assignment.plan, device.id, now.toISOString());
    action = getAction(context, Number(result.lastInsertRowid))!;
  }
  return { cancel: null, deployment: action.id, assignment };
}

/** Feedback for a deployment or cancel action, recorded as the device's report. */
export function recordFeedback(context: SluiceContext, device: string, actionId: number, kind: 'deployment' | 'cancel', status: { execution: string; result: { finished: string }; details?: string[] }) {
  const action = getAction(context, actionId);
  if (!action || action.device !== device) throw new SluiceError('not_found', `action ${actionId} is not this controller's`);
  if (action.status === 'closed' || action.status === 'canceled') throw new SluiceError('action_closed', `action ${actionId} is already ${action.status}`);
  let mapped = stateForFeedback(status.execution, status.result.finished);
  // A client told to skip the update (outside the window) closes the action "successfully"
  // without installing: that is waiting for the window, never a commit.
  if (kind === 'deployment' && action.last_update === 'skip' && mapped.state === 'committed') mapped = { state: 'waiting_window', closesAction: false };
  const now = context.options.now();
  context.db.transaction(() => {
    if (kind === 'cancel') {
      // The device confirms the cancellation (closed) or refuses it (rejected: it carries on).
      if (status.execution === 'closed' || status.execution === 'canceled') {
        context.db.prepare("UPDATE ddi_actions SET status = 'canceled', closed_at = ? WHERE id = ?").run(now.toISOString(), actionId);
        recordDeviceReport(context, { device, eventId: randomUUID(), assignment: action.plan, state: 'idle', detail: 'cancel confirmed by the device' });
      } else if (status.execution === 'rejected') {
        context.db.prepare("UPDATE ddi_actions SET status = 'open' WHERE id = ?").run(actionId);
      }
      return;
    }
    recordDeviceReport(context, {
      device, eventId: randomUUID(), assignment: action.plan, state: mapped.state as AgentState,
      detail: `ddi ${status.execution}/${status.result.finished}${status.details?.length ? `: ${status.details.join(' | ').slice(0, 2000)}` : ''}`,
    });
    if (mapped.closesAction) context.db.prepare("UPDATE ddi_actions SET status = 'closed', closed_at = ? WHERE id = ?").run(now.toISOString(), actionId);
  })();
}

export function rememberHandling(context: SluiceContext, actionId: number, update: string): void {
  context.db.prepare('UPDATE ddi_actions SET last_update = ? WHERE id = ?').run(update, actionId);
}
