// hawkBit DDI actions over sluice's plans: a DDI device gets its deployment only when its plan
// and wave say so (the same assignment as sluice's own agent), and its feedback is recorded as
// the same device reports. Every step of an action is a row of the domain's table, written as
// a conditional update, so that two processes answering one controller move it once.
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { DdiAction, Device } from '../storage/repositories/records.js';
import { SluiceError } from '../errors.js';
import { assignmentForDevice, type CheckinAssignment } from './checkin.js';
import { recordDeviceReport } from './device-events.js';
import type { AgentState } from '../../client/states.js';
import { cancelFeedbackEvent, stateForFeedback, transitionAction, type ActionEvent, type Execution } from '../domain/ddi.js';

export interface ControllerState { cancel: number | null; deployment: number | null; assignment: CheckinAssignment | null }

/** Takes one step of the table on the action as read; false when another request moved it first. */
async function step(tx: Store, action: DdiAction, event: ActionEvent, at: Date): Promise<boolean> {
  const next = transitionAction(action.status, event);
  return next === action.status || tx.ddi.moveAction(action.id, action.status, next, at);
}

/** Whether the live action's plan no longer stands: cancelled, or its release yanked. */
async function withdrawn(store: Store, action: DdiAction): Promise<boolean> {
  const plan = await store.plans.get(action.plan);
  if (!plan || plan.status === 'cancelled') return true;
  const release = plan.release ? await store.releases.get(plan.release) : undefined;
  return release?.yankedAt != null;
}

/**
 * What the controller base resource offers: a deployment for the device's live assignment, or
 * a cancel action when the plan behind a live action was cancelled or its release yanked.
 */
export async function controllerState(context: SluiceContext, device: Pick<Device, 'id' | 'version' | 'state'>, now: Date): Promise<ControllerState> {
  const { store } = context;
  const live = await store.ddi.liveActionOf(device.id);
  if (live && (live.status === 'canceling' || await withdrawn(store, live))) {
    if (live.status === 'open') await step(store, live, 'request_cancel', now);
    return { cancel: live.id, deployment: null, assignment: null };
  }
  const assignment = await assignmentForDevice(context, device, now);
  if (!assignment) return { cancel: null, deployment: null, assignment: null };
  const action = live && live.plan === assignment.plan ? live : await store.ddi.openAction(assignment.plan, device.id, now);
  return { cancel: null, deployment: action.id, assignment };
}

export interface Feedback { execution: Execution; result: { finished: string }; details?: string[] }

/** Feedback for a deployment or cancel action, recorded as the device's report in the same transaction. */
export async function recordFeedback(context: SluiceContext, device: string, actionId: number, kind: 'deployment' | 'cancel', status: Feedback): Promise<void> {
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    const action = await tx.ddi.actionForUpdate(actionId);
    if (!action || action.device !== device) throw new SluiceError('not_found', `action ${actionId} is not this controller's`);
    if (kind === 'cancel') {
      // The device confirms the cancellation (closed) or refuses it (rejected: it carries on).
      const event = cancelFeedbackEvent(status.execution);
      if (!(await step(tx, action, event, now))) throw new SluiceError('action_closed', `action ${actionId} changed meanwhile`);
      if (event === 'confirm_cancel') {
        await recordDeviceReport(context, { device, eventId: randomUUID(), assignment: action.plan, state: 'idle', detail: 'cancel confirmed by the device' }, tx);
      }
      return;
    }
    let mapped = stateForFeedback(status.execution, status.result.finished);
    // A client told to skip the update (outside the window) closes the action "successfully"
    // without installing: that is waiting for the window, never a commit.
    if (action.lastUpdate === 'skip' && mapped.state === 'committed') mapped = { state: 'waiting_window', closesAction: false };
    if (!(await step(tx, action, mapped.closesAction ? 'close' : 'report', now))) throw new SluiceError('action_closed', `action ${actionId} changed meanwhile`);
    await recordDeviceReport(context, {
      device, eventId: randomUUID(), assignment: action.plan, state: mapped.state as AgentState,
      detail: `ddi ${status.execution}/${status.result.finished}${status.details?.length ? `: ${status.details.join(' | ').slice(0, 2000)}` : ''}`,
    }, tx);
  });
}

/** Merges, replaces or removes the controller's configuration data (hawkBit's configData modes). */
export async function updateConfigData(context: SluiceContext, device: string, mode: 'merge' | 'replace' | 'remove', data: Record<string, string>): Promise<void> {
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    const current = (await tx.ddi.configDataForUpdate(device)) ?? {};
    const next = mode === 'replace' ? data
      : mode === 'remove' ? Object.fromEntries(Object.entries(current).filter(([key]) => !(key in data)))
        : { ...current, ...data };
    await tx.ddi.saveConfigData(device, next, now);
  });
}
