// The plan lifecycle (DESIGN.md, "Upgrade plans") as a table, deadlines and overdue flags.
import t from 'tap';
import {
  planTransitions,
  planStatuses,
  planEvents,
  terminalStatuses,
  liveStatuses,
  transitionPlan,
  defaultDeadline,
  overdueReason,
  validatePlanWindows,
  type PlanStatus,
  type PlanEvent,
} from '../../server/domain/plans.js';
import type { MaintenanceWindow } from '../../server/domain/windows.js';
import { errorCode } from '../helpers/errors.js';
import { SluiceError } from '../../server/errors.js';

t.test('every row of the transition table is taken', async (t) => {
  for (const row of planTransitions) {
    t.equal(
      transitionPlan(row.from, row.event, row.pausedFrom),
      row.to,
      `${row.from} --${row.event}${row.pausedFrom ? ` (paused from ${row.pausedFrom})` : ''}--> ${row.to}`,
    );
  }
});

t.test('the table is the contract: the main path, countered, paused, cancelled', async (t) => {
  const walk = (events: [PlanEvent, PlanStatus?][]) =>
    events.reduce<PlanStatus>((status, [event, pausedFrom]) => transitionPlan(status, event, pausedFrom), 'draft');
  t.equal(walk([['propose'], ['confirm'], ['start'], ['complete']]), 'completed', 'draft → proposed → confirmed → in_progress → completed');
  t.equal(
    walk([['propose'], ['counter'], ['propose'], ['counter'], ['propose'], ['confirm']]),
    'confirmed',
    'countered plans are proposed again, as often as needed',
  );
  t.equal(
    walk([['propose'], ['confirm'], ['pause'], ['resume', 'confirmed'], ['start'], ['pause'], ['resume', 'in_progress'], ['complete']]),
    'completed',
    'paused twice, resumed where it was',
  );
  for (const status of planStatuses) {
    const legal = planTransitions.some((row) => row.from === status && row.event === 'cancel');
    t.equal(legal, !terminalStatuses.has(status), `cancel from ${status} ${legal ? 'allowed' : 'refused'}: any non-terminal state`);
  }
  t.same([...liveStatuses].sort(), ['confirmed', 'in_progress'], 'devices act only in confirmed and in_progress plans');
});

t.test('every pair not in the table is refused with illegal_transition naming the current state', async (t) => {
  let refused = 0;
  for (const status of planStatuses) {
    for (const event of planEvents) {
      if (planTransitions.some((row) => row.from === status && row.event === event)) continue;
      try {
        transitionPlan(status, event);
        t.fail(`${status} --${event}--> should be refused`);
      } catch (error) {
        t.ok(
          error instanceof SluiceError &&
            error.code === 'illegal_transition' &&
            error.message.includes(status) &&
            error.details?.status === status,
          `${status} --${event}--> refused`,
        );
        refused++;
      }
    }
  }
  t.equal(
    refused,
    planStatuses.length * planEvents.length - new Set(planTransitions.map((row) => `${row.from}/${row.event}`)).size,
    'all the others',
  );
});

t.test('resume goes back to where the plan was paused, and nowhere else', async (t) => {
  const table: [PlanStatus | null | undefined, PlanStatus | null][] = [
    ['confirmed', 'confirmed'],
    ['in_progress', 'in_progress'],
    [null, 'confirmed'], // not remembered: confirmed, which the first device report starts again
    [undefined, 'confirmed'],
    ['draft', null],
    ['completed', null],
    ['paused', null],
  ];
  for (const [pausedFrom, expected] of table) {
    if (expected) t.equal(transitionPlan('paused', 'resume', pausedFrom), expected, `paused from ${pausedFrom} → ${expected}`);
    else
      t.equal(
        errorCode(() => transitionPlan('paused', 'resume', pausedFrom)),
        'illegal_transition',
        `paused from ${pausedFrom}: refused`,
      );
  }
  t.equal(transitionPlan('confirmed', 'start', 'in_progress'), 'in_progress', 'pausedFrom only matters to resume');
});

t.test('the default deadline is one calendar month after publication', async (t) => {
  const table: [string, string, string][] = [
    ['2026-11-25T10:00:00.000Z', '2026-12-25T10:00:00.000Z', 'same day next month, same time'],
    ['2026-12-15T12:00:00.000Z', '2027-01-15T12:00:00.000Z', 'across the year'],
    ['2027-01-31T00:00:00.000Z', '2027-02-28T00:00:00.000Z', '31 January → 28 February'],
    ['2028-01-31T23:59:59.000Z', '2028-02-29T23:59:59.000Z', 'leap year: 29 February'],
    ['2026-03-31T08:00:00.000Z', '2026-04-30T08:00:00.000Z', '31 March → 30 April'],
    ['2026-02-28T08:00:00.000Z', '2026-03-28T08:00:00.000Z', 'from a short month: the same day, not the month end'],
    ['2026-03-01T00:30:00.000Z', '2026-04-01T00:30:00.000Z', 'UTC: unaffected by any zone changing its clocks'],
  ];
  for (const [published, deadline, why] of table) t.equal(defaultDeadline(new Date(published)).toISOString(), deadline, why);
});

t.test('overdue: no window before the deadline, unconfirmed or unfinished past it', async (t) => {
  const deadline = new Date('2026-12-25T00:00:00Z');
  const before: MaintenanceWindow = { start: '2026-12-20T02:00', end: '2026-12-20T05:00', timezone: 'Europe/Madrid' };
  const after: MaintenanceWindow = { start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' };
  const sundays: MaintenanceWindow = { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'America/New_York' };
  const later: MaintenanceWindow = { start: '2026-12-23T02:00', end: '2026-12-23T05:00', timezone: 'Europe/Madrid' };
  const newYear: MaintenanceWindow = { cron: '0 2 1 1 *', duration: 'PT2H', timezone: 'Asia/Shanghai' };
  const table: [PlanStatus, MaintenanceWindow[], MaintenanceWindow | undefined, string, string | null, string][] = [
    ['proposed', [before], undefined, '2026-12-01T00:00:00Z', null, 'a window before the deadline'],
    ['proposed', [after], undefined, '2026-12-01T00:00:00Z', 'no_window_before_deadline', 'only a window after it'],
    ['proposed', [after, before], undefined, '2026-12-01T00:00:00Z', null, 'one usable window is enough'],
    [
      'proposed',
      [newYear],
      undefined,
      '2026-12-01T00:00:00Z',
      'no_window_before_deadline',
      'a recurring window whose next start is after it',
    ],
    ['draft', [sundays], undefined, '2026-12-01T00:00:00Z', null, 'a recurring window with Sundays before it'],
    ['proposed', [before], undefined, '2026-12-20T02:00:00Z', null, 'its occurrence is running'],
    ['proposed', [before], undefined, '2026-12-25T00:00:00Z', 'unconfirmed_past_deadline', 'at the deadline, unconfirmed'],
    ['draft', [before], undefined, '2026-12-26T00:00:00Z', 'unconfirmed_past_deadline', 'a draft past it'],
    ['countered', [before], undefined, '2026-12-26T00:00:00Z', 'unconfirmed_past_deadline', 'countered past it'],
    ['confirmed', [before], before, '2026-12-26T00:00:00Z', 'unfinished_past_deadline', 'confirmed, never started'],
    ['in_progress', [before], before, '2026-12-26T00:00:00Z', 'unfinished_past_deadline', 'started, not finished'],
    ['paused', [before], before, '2026-12-26T00:00:00Z', 'unfinished_past_deadline', 'paused past it'],
    ['confirmed', [before], before, '2026-12-21T00:00:00Z', 'no_window_before_deadline', 'the confirmed window is over'],
    ['confirmed', [before, later], before, '2026-12-21T00:00:00Z', 'no_window_before_deadline', 'other proposed windows no longer count'],
    ['proposed', [before, later], undefined, '2026-12-21T00:00:00Z', null, 'before confirmation they do'],
    ['confirmed', [before, sundays], sundays, '2026-12-19T00:00:00Z', null, 'the confirmed recurring window has a Sunday left'],
    ['confirmed', [before, sundays], sundays, '2026-12-21T00:00:00Z', 'no_window_before_deadline', 'the next Sunday is after the deadline'],
    ['confirmed', [{ asap: true }], { asap: true }, '2026-12-21T00:00:00Z', null, 'an emergency window is usable until the deadline'],
    ['completed', [before], before, '2027-02-01T00:00:00Z', null, 'completed is never overdue'],
    ['cancelled', [after], undefined, '2027-02-01T00:00:00Z', null, 'cancelled is never overdue'],
  ];
  for (const [status, windows, confirmedWindow, now, expected, why] of table) {
    t.equal(overdueReason({ status, deadline, windows, confirmedWindow }, new Date(now)), expected, `${status} at ${now}: ${why}`);
  }
});

t.test('validatePlanWindows refuses unusable windows, naming the window', async (t) => {
  const deadline = new Date('2026-12-25T00:00:00Z');
  const now = new Date('2026-12-01T00:00:00Z');
  const table: [MaintenanceWindow[], Date, string | null, RegExp | null, string][] = [
    [[{ start: '2026-12-20T02:00', end: '2026-12-20T05:00', timezone: 'Europe/Madrid' }], now, null, null, 'a one-off before the deadline'],
    [[{ start: '2026-11-30T23:00', end: '2026-12-01T03:00', timezone: 'Europe/Madrid' }], now, null, null, 'a one-off running now'],
    [
      [{ start: '2026-11-20T02:00', end: '2026-11-20T05:00', timezone: 'Europe/Madrid' }],
      now,
      'no_window_before_deadline',
      /window 0 .*already ended/,
      'a one-off that ended',
    ],
    [
      [{ start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' }],
      now,
      'no_window_before_deadline',
      /window 0 .*after the deadline/,
      'a one-off after the deadline',
    ],
    [[{ cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Australia/Lord_Howe' }], now, null, null, 'weekly Sundays'],
    [
      [
        { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid' },
        { cron: '0 2 1 1 *', duration: 'PT2H', timezone: 'Europe/Madrid' },
      ],
      now,
      'no_window_before_deadline',
      /window 1 .*2027-01-01T01:00:00.000Z/,
      'the second window only starts on 1 January',
    ],
    [[{ asap: true }], now, null, null, 'an emergency window'],
    [
      [{ asap: true }],
      new Date('2026-12-25T00:00:00Z'),
      'validation_failed',
      /deadline .* has already passed/,
      'the deadline itself has passed',
    ],
  ];
  for (const [windows, at, code, message, why] of table) {
    t.equal(
      errorCode(() => validatePlanWindows(windows, deadline, at)),
      code,
      why,
    );
    if (message) t.throws(() => validatePlanWindows(windows, deadline, at), { message }, `${why}: message`);
  }
  try {
    validatePlanWindows([{ asap: true }, { start: '2026-11-20T02:00', end: '2026-11-20T05:00', timezone: 'Europe/Madrid' }], deadline, now);
    t.fail('should refuse');
  } catch (error) {
    t.same((error as SluiceError).details, { window: 1 }, 'details name the index');
  }
});
