// The plan lifecycle table, deadlines and overdue flags.
import t from 'tap';
import { planTransitions, planStatuses, planEvents, transitionPlan, defaultDeadline, overdueReason, validatePlanWindows, type PlanStatus } from '../../server/domain/plans.js';
import { errorCode } from '../helpers/errors.js';
import { SluiceError } from '../../server/errors.js';

t.test('every row of the transition table is taken', async (t) => {
  for (const row of planTransitions) {
    t.equal(transitionPlan(row.from, row.event, row.pausedFrom), row.to, `${row.from} --${row.event}--> ${row.to}`);
  }
});

t.test('every pair not in the table is refused with a 409 code naming the current state', async (t) => {
  let refused = 0;
  for (const status of planStatuses) {
    for (const event of planEvents) {
      if (planTransitions.some((row) => row.from === status && row.event === event)) continue;
      try {
        transitionPlan(status, event);
        t.fail(`${status} --${event}--> should be refused`);
      } catch (error) {
        t.ok(error instanceof SluiceError && error.code === 'illegal_transition' && error.message.includes(status) && error.details?.status === status, `${status} --${event}--> refused`);
        refused++;
      }
    }
  }
  t.ok(refused > 40, 'most pairs are illegal');
});

t.test('resume goes back to where the plan was paused', async (t) => {
  t.equal(transitionPlan('paused', 'resume', 'confirmed'), 'confirmed');
  t.equal(transitionPlan('paused', 'resume', 'in_progress'), 'in_progress');
});

t.test('the default deadline is one calendar month after publication', async (t) => {
  const table: [string, string][] = [
    ['2026-11-25T10:00:00.000Z', '2026-12-25T10:00:00.000Z'],
    ['2027-01-31T00:00:00.000Z', '2027-02-28T00:00:00.000Z'],
    ['2028-01-31T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ['2026-12-15T12:00:00.000Z', '2027-01-15T12:00:00.000Z'],
  ];
  for (const [published, deadline] of table) t.equal(defaultDeadline(new Date(published)).toISOString(), deadline, published);
});

t.test('overdue: no window before the deadline, unconfirmed or unfinished past it', async (t) => {
  const deadline = new Date('2026-12-25T00:00:00Z');
  const before = { start: '2026-12-20T02:00', end: '2026-12-20T05:00', timezone: 'Europe/Madrid' };
  const after = { start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' };
  const table: [PlanStatus, object[], string, string | null][] = [
    ['proposed', [before], '2026-12-01T00:00:00Z', null],
    ['proposed', [after], '2026-12-01T00:00:00Z', 'no_window_before_deadline'],
    ['proposed', [after, before], '2026-12-01T00:00:00Z', null],
    ['proposed', [before], '2026-12-25T00:00:00Z', 'unconfirmed_past_deadline'],
    ['countered', [before], '2026-12-26T00:00:00Z', 'unconfirmed_past_deadline'],
    ['in_progress', [before], '2026-12-26T00:00:00Z', 'unfinished_past_deadline'],
    ['confirmed', [before], '2026-12-21T00:00:00Z', 'no_window_before_deadline'],
    ['completed', [before], '2027-02-01T00:00:00Z', null],
    ['cancelled', [after], '2026-12-01T00:00:00Z', null],
  ];
  for (const [status, windows, now, expected] of table) {
    t.equal(overdueReason({ status, deadline, windows: windows as never }, new Date(now)), expected, `${status} at ${now}`);
  }
  t.equal(errorCode(() => validatePlanWindows([{ cron: '0 2 1 1 *', duration: 'PT2H', timezone: 'Europe/Madrid' }], deadline, new Date('2026-12-01T00:00:00Z'))), 'no_window_before_deadline', 'a recurring window with no occurrence before the deadline');
  t.equal(errorCode(() => validatePlanWindows([before], deadline, new Date('2026-12-01T00:00:00Z'))), null);
});
