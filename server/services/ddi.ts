// hawkBit DDI actions over sluice's plans: a DDI device gets its deployment only when its plan
// and wave say so (the same assignment as sluice's own agent), and its feedback is recorded as
// the same device reports. Every step of an action is a row of the domain's table, written as
// a conditional update, so that two processes answering one controller move it once.
import { randomUUID } from 'node:crypto';
import semver from 'semver';
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { DdiAction, Device } from '../storage/repositories/records.js';
import { SluiceError } from '../errors.js';
import { assignmentForDevice, type CheckinAssignment } from './checkin.js';
import { recordDeviceReport } from './device-events.js';
import type { AgentState } from '../../client/states.js';
import { cancelFeedbackEvent, stateForFeedback, transitionAction, type ActionEvent, type Execution } from '../domain/ddi.js';
import { releaseMisfit } from '../domain/release-fit.js';

export interface ControllerState {
  cancel: number | null;
  deployment: number | null;
  assignment: CheckinAssignment | null;
}

/** Takes one step of the table on the action as read; false when another request moved it first. */
async function step(tx: Store, action: DdiAction, event: ActionEvent, at: Date): Promise<boolean> {
  const next = transitionAction(action.status, event);
  return next === action.status || tx.ddi.moveAction(action.id, action.status, next, at);
}

type ControllerDevice = Pick<Device, 'id' | 'product' | 'hardware' | 'version' | 'state'>;

/**
 * Whether the live action's plan no longer stands: cancelled, its release yanked, or its
 * release no longer fitting the device (its version changed since the action was opened).
 */
async function withdrawn(store: Store, action: DdiAction, device: ControllerDevice): Promise<boolean> {
  const plan = await store.plans.get(action.plan);
  if (!plan || plan.status === 'cancelled') return true;
  const release = plan.release ? await store.releases.get(plan.release) : undefined;
  if (!release) return false;
  return release.yankedAt !== null || releaseMisfit(release.manifest.signed, device) !== null;
}

/**
 * What the controller base resource offers: a deployment for the device's live assignment, or
 * a cancel action when the plan behind a live action was cancelled, its release yanked or no
 * longer fitting the device.
 */
export async function controllerState(context: SluiceContext, device: ControllerDevice, now: Date): Promise<ControllerState> {
  const { store } = context;
  const live = await store.ddi.liveActionOf(device.id);
  if (live && (live.status === 'canceling' || (await withdrawn(store, live, device)))) {
    if (live.status === 'open') await step(store, live, 'request_cancel', now);
    return { cancel: live.id, deployment: null, assignment: null };
  }
  const assignment = await assignmentForDevice(context, device, now);
  if (!assignment) return { cancel: null, deployment: null, assignment: null };
  const action = live && live.plan === assignment.plan ? live : await store.ddi.openAction(assignment.plan, device.id, now);
  return { cancel: null, deployment: action.id, assignment };
}

export interface Feedback {
  execution: Execution;
  result: { finished: string };
  details?: string[];
}

/** Feedback for a deployment or cancel action, recorded as the device's report in the same transaction. */
export async function recordFeedback(
  context: SluiceContext,
  device: string,
  actionId: number,
  kind: 'deployment' | 'cancel',
  status: Feedback,
): Promise<void> {
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    const action = await tx.ddi.actionForUpdate(actionId);
    if (!action || action.device !== device) throw new SluiceError('not_found', `action ${actionId} is not this controller's`);
    if (kind === 'cancel') {
      // The device confirms the cancellation (closed) or refuses it (rejected: it carries on).
      const event = cancelFeedbackEvent(status.execution);
      if (!(await step(tx, action, event, now))) throw new SluiceError('action_closed', `action ${actionId} changed meanwhile`);
      if (event === 'confirm_cancel') {
        await recordDeviceReport(
          context,
          { device, eventId: randomUUID(), assignment: action.plan, state: 'idle', detail: 'cancel confirmed by the device' },
          tx,
        );
      }
      return;
    }
    let mapped = stateForFeedback(status.execution, status.result.finished);
    // A client told to skip the update (outside the window) closes the action "successfully"
    // without installing: that is waiting for the window, never a commit.
    if (action.lastUpdate === 'skip' && mapped.state === 'committed') mapped = { state: 'waiting_window', closesAction: false };
    if (action.status === 'canceled' && mapped.state === 'committed') {
      // SWUpdate acknowledges a cancel while it waits to reboot into the update it already
      // installed, and reports success for the action once booted: the cancel came too late
      // and the device runs the release. The action stays canceled; the device's record
      // follows the truth. One stable event id, so a resend is recorded once.
      await recordDeviceReport(
        context,
        {
          device,
          eventId: `ddi-action-${action.id}-installed-after-cancel`,
          assignment: action.plan,
          state: 'committed',
          detail: `ddi ${status.execution}/${status.result.finished} after the device had acknowledged the cancel: it installed the release anyway`,
        },
        tx,
      );
      return;
    }
    if (!(await step(tx, action, mapped.closesAction ? 'close' : 'report', now)))
      throw new SluiceError('action_closed', `action ${actionId} changed meanwhile`);
    await recordDeviceReport(
      context,
      {
        device,
        eventId: randomUUID(),
        assignment: action.plan,
        state: mapped.state as AgentState,
        detail: `ddi ${status.execution}/${status.result.finished}${status.details?.length ? `: ${status.details.join(' | ').slice(0, 2000)}` : ''}`,
      },
      tx,
    );
  });
}

/**
 * The controller attribute that carries the version a DDI device runs (SWUpdate: an
 * `identify` entry named "version" in swupdate.cfg, sent at every start).
 */
export const versionAttribute = 'version';

/**
 * Merges, replaces or removes the controller's configuration data (hawkBit's configData
 * modes). A `version` attribute is the device's word for what it runs: it corrects the
 * device's record, as after a cancel the device acknowledged when the update was already
 * installed (it then boots into the new version, and no feedback follows).
 */
export async function updateConfigData(
  context: SluiceContext,
  device: string,
  mode: 'merge' | 'replace' | 'remove',
  data: Record<string, string>,
): Promise<void> {
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    const current = (await tx.ddi.configDataForUpdate(device)) ?? {};
    const next =
      mode === 'replace'
        ? data
        : mode === 'remove'
          ? Object.fromEntries(Object.entries(current).filter(([key]) => !(key in data)))
          : { ...current, ...data };
    await tx.ddi.saveConfigData(device, next, now);
    const reported = mode === 'remove' ? undefined : data[versionAttribute];
    const version = reported === undefined ? null : semver.valid(reported.trim());
    if (!version) return;
    const before = (await tx.devices.get(device))?.version;
    if (!(await tx.devices.recordVersion(device, version))) return;
    await tx.audit.record({
      at: now,
      actor: `device:${device}`,
      action: 'device.version_reported',
      subject: `device:${device}`,
      details: { from: before ?? null, to: version, source: 'ddi configData' },
    });
  });
}
