// hawkBit DDI compatibility rules, pure (issue: existing fleets). The feedback a DDI client
// sends (execution + finished) maps onto sluice's agent states through ONE table, so DDI
// devices move through the same states, waves and failure limits as sluice's own agent.
import { SluiceError } from '../errors.js';
import { takeTransition, type TransitionRow } from './transition-table.js';

export const executions = ['proceeding', 'scheduled', 'resumed', 'downloading', 'downloaded', 'canceled', 'rejected', 'closed'] as const;
export type Execution = (typeof executions)[number];
export const finishedValues = ['success', 'failure', 'none'] as const;
export type Finished = (typeof finishedValues)[number];

/** (execution, finished) → agent state; '*' matches any `finished`. */
export const feedbackTable: readonly { execution: Execution; finished: Finished | '*'; state: string; closesAction: boolean }[] = [
  { execution: 'scheduled', finished: '*', state: 'waiting_window', closesAction: false },
  { execution: 'downloading', finished: '*', state: 'downloading', closesAction: false },
  { execution: 'downloaded', finished: '*', state: 'downloaded', closesAction: false },
  { execution: 'resumed', finished: '*', state: 'installing', closesAction: false },
  { execution: 'proceeding', finished: 'failure', state: 'failed', closesAction: true },
  { execution: 'proceeding', finished: '*', state: 'installing', closesAction: false },
  { execution: 'closed', finished: 'success', state: 'committed', closesAction: true },
  { execution: 'closed', finished: 'failure', state: 'failed', closesAction: true },
  { execution: 'closed', finished: 'none', state: 'failed', closesAction: true },
  { execution: 'rejected', finished: '*', state: 'failed', closesAction: true },
  { execution: 'canceled', finished: '*', state: 'idle', closesAction: true },
];

export function stateForFeedback(execution: string, finished: string): { state: string; closesAction: boolean } {
  if (!(executions as readonly string[]).includes(execution))
    throw new SluiceError('validation_failed', `status.execution must be one of ${executions.join(', ')}`);
  if (!(finishedValues as readonly string[]).includes(finished))
    throw new SluiceError('validation_failed', `status.result.finished must be one of ${finishedValues.join(', ')}`);
  const row = feedbackTable.find((entry) => entry.execution === execution && (entry.finished === '*' || entry.finished === finished))!;
  return { state: row.state, closesAction: row.closesAction };
}

/** hawkBit's polling interval format, config.polling.sleep: HH:mm:ss. */
export function pollingSleep(seconds: number): string {
  const whole = Math.max(1, Math.min(Math.round(seconds), 24 * 3600 - 1));
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor((whole % 3600) / 60))}:${pad(whole % 60)}`;
}

/**
 * The confirmed window, expressed in the deployment's handling fields: inside it the device
 * is told to download and update now; outside it, to skip both (DESIGN.md: install only in the
 * confirmed window; the issue: outside the window a DDI device downloads nothing).
 */
export function deploymentHandling(installAllowed: boolean): {
  download: 'forced' | 'skip';
  update: 'forced' | 'skip';
  maintenanceWindow: 'available' | 'unavailable';
} {
  return installAllowed
    ? { download: 'forced', update: 'forced', maintenanceWindow: 'available' }
    : { download: 'skip', update: 'skip', maintenanceWindow: 'unavailable' };
}

/**
 * A DDI action's lifecycle. An action is opened for a device's live assignment; when its plan
 * is cancelled (or its release yanked) it becomes a cancel action the device confirms or
 * rejects; feedback that ends the update closes it. `report` is feedback that changes nothing
 * but is only accepted while the action is live.
 */
export const actionStatuses = ['open', 'canceling', 'closed', 'canceled'] as const;
export type ActionStatus = (typeof actionStatuses)[number];
export const actionEvents = ['report', 'close', 'request_cancel', 'confirm_cancel', 'reject_cancel'] as const;
export type ActionEvent = (typeof actionEvents)[number];

export const actionTransitions: readonly TransitionRow<ActionStatus, ActionEvent>[] = [
  { from: 'open', event: 'report', to: 'open' },
  { from: 'open', event: 'close', to: 'closed' },
  { from: 'open', event: 'request_cancel', to: 'canceling' },
  { from: 'canceling', event: 'report', to: 'canceling' },
  // The device finished the update before it saw the cancel: the update stands.
  { from: 'canceling', event: 'close', to: 'closed' },
  { from: 'canceling', event: 'confirm_cancel', to: 'canceled' },
  // The device refuses to cancel (hawkBit: rejected) and carries on with the update.
  { from: 'canceling', event: 'reject_cancel', to: 'open' },
];

export const closedActionStatuses: ReadonlySet<ActionStatus> = new Set(['closed', 'canceled']);

/**
 * One step by the table. An action that is already closed or canceled answers
 * `action_closed` (hawkBit: 410 Gone), any other pair not in the table `illegal_transition`.
 */
export function transitionAction(status: ActionStatus, event: ActionEvent): ActionStatus {
  if (closedActionStatuses.has(status)) throw new SluiceError('action_closed', `the action is already ${status}`, { status });
  return takeTransition(actionTransitions, 'DDI action', status, event).to;
}

/** What feedback on a cancel action asks for: hawkBit's closed/canceled confirm it, rejected refuses it. */
export function cancelFeedbackEvent(execution: Execution): ActionEvent {
  if (execution === 'closed' || execution === 'canceled') return 'confirm_cancel';
  if (execution === 'rejected') return 'reject_cancel';
  return 'report';
}
