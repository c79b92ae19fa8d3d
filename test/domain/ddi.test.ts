// The DDI action lifecycle as a table (issue 14: "the DDI action lifecycle as a transition
// table"): every row is taken, every other pair is refused, closed actions answer 410.
import t from 'tap';
import {
  actionTransitions,
  actionStatuses,
  actionEvents,
  closedActionStatuses,
  transitionAction,
  cancelFeedbackEvent,
  executions,
  type ActionEvent,
  type ActionStatus,
} from '../../server/domain/ddi.js';
import { errorCode } from '../helpers/errors.js';

t.test('every row of the action table is taken', async (t) => {
  for (const row of actionTransitions) t.equal(transitionAction(row.from, row.event), row.to, `${row.from} --${row.event}--> ${row.to}`);
});

t.test('the paths a controller takes', async (t) => {
  const walk = (events: ActionEvent[]) => events.reduce<ActionStatus>((status, event) => transitionAction(status, event), 'open');
  t.equal(walk(['report', 'report', 'close']), 'closed', 'feedback, then the update ends');
  t.equal(walk(['request_cancel', 'confirm_cancel']), 'canceled', 'plan cancelled, device confirms');
  t.equal(walk(['request_cancel', 'reject_cancel', 'close']), 'closed', 'the device refuses the cancel and finishes');
  t.equal(walk(['request_cancel', 'close']), 'closed', 'the update ended before the device saw the cancel');
});

t.test('every pair not in the table is refused: closed actions with action_closed, the others with illegal_transition', async (t) => {
  let refused = 0;
  for (const status of actionStatuses) {
    for (const event of actionEvents) {
      if (actionTransitions.some((row) => row.from === status && row.event === event)) continue;
      const expected = closedActionStatuses.has(status) ? 'action_closed' : 'illegal_transition';
      t.equal(
        errorCode(() => transitionAction(status, event)),
        expected,
        `${status} --${event}--> ${expected}`,
      );
      refused++;
    }
  }
  t.equal(refused, actionStatuses.length * actionEvents.length - actionTransitions.length, 'the table has no duplicate pairs');
  t.notOk(
    actionTransitions.some((row) => closedActionStatuses.has(row.from)),
    'nothing leaves closed or canceled',
  );
  t.same([...closedActionStatuses].sort(), ['canceled', 'closed']);
});

t.test('cancel feedback: closed or canceled confirms, rejected refuses, anything else is a report', async (t) => {
  const expected: Record<string, ActionEvent> = { closed: 'confirm_cancel', canceled: 'confirm_cancel', rejected: 'reject_cancel' };
  for (const execution of executions) t.equal(cancelFeedbackEvent(execution), expected[execution] ?? 'report', execution);
});
