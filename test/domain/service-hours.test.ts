// The service-hours calendar and the fault clocks over it, as tables: midnight, weekends,
// holidays, both DST changes of Europe/Madrid, pauses while waiting on the customer, the
// warning share, and the cutoffs GET /metrics counts with.
import t from 'tap';
import {
  defaultServiceHours,
  isOpen,
  serviceTimeBetween,
  subtractServiceTime,
  validateServiceHours,
  type ServiceHours,
} from '../../server/domain/service-hours.js';
import { breaches, dueTimes, faultClocks, lateCutoffs, defaultClockSetting, type ClockSetting } from '../../server/domain/fault-clock.js';
import { serviceHoursFrom } from '../../server/config.js';
import { errorCode } from '../helpers/errors.js';

const madrid: ServiceHours = {
  zone: 'Europe/Madrid',
  weekdays: [1, 2, 3, 4, 5],
  opens: '08:00',
  closes: '17:00',
  holidays: ['2026-12-08', '2026-12-25'],
};
const madridSetting: ClockSetting = { ...defaultClockSetting, serviceHours: madrid };
const instant = (text: string) => new Date(text);
const minutes = (count: number) => count * 60_000;

t.test('service time between two instants', async (t) => {
  const table: [string, ServiceHours, string, string, number][] = [
    ['inside one day', defaultServiceHours, '2026-12-01T09:00:00Z', '2026-12-01T10:30:00Z', 90],
    ['across midnight: evening and morning only', defaultServiceHours, '2026-12-01T16:00:00Z', '2026-12-02T09:00:00Z', 120],
    ['a weekend counts nothing', defaultServiceHours, '2026-12-05T00:00:00Z', '2026-12-07T00:00:00Z', 0],
    ['Friday 16:30 to Monday 08:30', defaultServiceHours, '2026-12-04T16:30:00Z', '2026-12-07T08:30:00Z', 60],
    ['a holiday (8 Dec, Tuesday) is closed', madrid, '2026-12-07T16:00:00Z', '2026-12-09T08:00:00Z', 60],
    // Madrid is UTC+1 in winter: 08:00 local is 07:00Z.
    ['local hours in the zone', madrid, '2026-12-01T06:00:00Z', '2026-12-01T08:00:00Z', 60],
    ['spring forward (29 Mar 2026): a Sunday, Monday opens at 06:00Z', madrid, '2026-03-28T00:00:00Z', '2026-03-30T07:00:00Z', 60],
    ['the first summer day counts 9 hours', madrid, '2026-03-30T00:00:00Z', '2026-03-31T00:00:00Z', 540],
    ['fall back (25 Oct 2026): Monday opens at 07:00Z again', madrid, '2026-10-26T06:00:00Z', '2026-10-26T08:00:00Z', 60],
    ['empty and reversed intervals', defaultServiceHours, '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z', 0],
  ];
  for (const [why, hours, from, to, expected] of table)
    t.equal(serviceTimeBetween(hours, instant(from), instant(to)), minutes(expected), why);
});

t.test('a day open until midnight, and a gap at the opening hour', async (t) => {
  const late: ServiceHours = { zone: 'Europe/Madrid', weekdays: [1, 2, 3, 4, 5, 6, 7], opens: '02:30', closes: '24:00', holidays: [] };
  // 29 Mar 2026: 02:30 does not exist in Madrid; the day opens at 03:00 local (01:00Z).
  t.equal(
    serviceTimeBetween(late, instant('2026-03-28T23:00:00Z'), instant('2026-03-29T22:00:00Z')),
    minutes(21 * 60),
    'the gap day opens when the gap ends and closes at midnight',
  );
  t.ok(isOpen(late, instant('2026-03-29T01:00:00Z')), 'open at the end of the gap');
  t.notOk(isOpen(late, instant('2026-03-29T00:59:00Z')), 'closed before it');
  // 25 Oct 2026: 02:30 happens twice; the first one (00:30Z) opens.
  t.ok(isOpen(late, instant('2026-10-25T00:30:00Z')), 'a repeated opening time opens at its first occurrence');
});

t.test('subtracting service time inverts counting it', async (t) => {
  for (const [to, length] of [
    ['2026-12-02T09:00:00Z', 120],
    ['2026-12-07T08:30:00Z', 45],
    ['2026-12-01T20:00:00Z', 45],
  ] as const) {
    const start = subtractServiceTime(defaultServiceHours, instant(to), minutes(length));
    t.equal(
      serviceTimeBetween(defaultServiceHours, start, instant(to)),
      minutes(length),
      `${length} min before ${to}: ${start.toISOString()}`,
    );
  }
});

t.test('fault clocks: A and B around the clock, C and D in service hours', async (t) => {
  const table: [string, 'A' | 'B' | 'C' | 'D', 'major' | 'general', string, string, string | null][] = [
    ['A at 03:00 on a Sunday: 15 min', 'A', 'major', '2026-12-06T03:00:00Z', '2026-12-06T03:15:00Z', '2026-12-06T04:00:00Z'],
    ['B at 23:50 crosses midnight', 'B', 'general', '2026-12-01T23:50:00Z', '2026-12-02T00:20:00Z', '2026-12-02T01:50:00Z'],
    ['C at 16:50: 10 min today, 35 tomorrow', 'C', 'general', '2026-12-01T16:50:00Z', '2026-12-02T08:35:00Z', null],
    ['C at 21:00: starts counting at 08:00', 'C', 'general', '2026-12-01T21:00:00Z', '2026-12-02T08:45:00Z', null],
    ['D on Friday 16:00: 1 h Friday, 1 h Monday', 'D', 'general', '2026-12-04T16:00:00Z', '2026-12-07T09:00:00Z', null],
  ];
  for (const [why, faultClass, severity, reportedAt, acknowledgeBy, resolveBy] of table) {
    const due = dueTimes({ class: faultClass, severity, reportedAt: instant(reportedAt) });
    t.same(
      [due.acknowledgeBy.toISOString(), due.resolveBy?.toISOString() ?? null],
      [instant(acknowledgeBy).toISOString(), resolveBy && instant(resolveBy).toISOString()],
      why,
    );
  }
  // Madrid's calendar: a holiday and a DST change.
  t.equal(
    dueTimes({ class: 'D', severity: 'general', reportedAt: instant('2026-12-07T15:30:00Z') }, madridSetting).acknowledgeBy.toISOString(),
    '2026-12-09T08:30:00.000Z',
    'D on Monday 16:30 local: 30 min Monday, holiday Tuesday, 90 min Wednesday (to 09:30 local)',
  );
  t.equal(
    dueTimes({ class: 'C', severity: 'general', reportedAt: instant('2026-03-27T15:45:00Z') }, madridSetting).acknowledgeBy.toISOString(),
    '2026-03-30T06:30:00.000Z',
    'C on Friday 16:45 CET: 15 min, then Monday 08:30 CEST',
  );
});

t.test('pauses while waiting on the customer, and the warning share', async (t) => {
  const reportedAt = instant('2026-12-01T10:00:00Z');
  const paused = {
    class: 'A' as const,
    severity: 'major' as const,
    reportedAt,
    pauses: [{ start: instant('2026-12-01T10:05:00Z'), end: instant('2026-12-01T10:25:00Z') }],
  };
  const clocks = faultClocks(paused, instant('2026-12-01T10:30:00Z'));
  t.equal(clocks.acknowledge.dueAt.toISOString(), '2026-12-01T10:35:00.000Z', 'a 20 min wait moves the 15 min clock by 20 min');
  t.equal(clocks.pausedMs, minutes(20), 'the paused time is reported');
  t.equal(clocks.acknowledge.warnAt.toISOString(), '2026-12-01T10:32:00.000Z', '80 % of 15 min counted: 5 min, the wait, 7 min');
  t.notOk(clocks.paused, 'no longer waiting');
  const open = { ...paused, pauses: [{ start: instant('2026-12-01T10:05:00Z'), end: null }] };
  t.same(breaches(open, instant('2026-12-01T12:00:00Z')), { acknowledge: false, resolve: false }, 'a clock cannot run out while it waits');
  t.ok(faultClocks(open, instant('2026-12-01T12:00:00Z')).paused, 'and says it is paused');
  t.same(
    breaches(open, instant('2026-12-01T12:00:00Z')),
    breaches(
      { ...paused, pauses: [{ start: instant('2026-12-01T10:05:00Z'), end: instant('2026-12-01T12:00:00Z') }] },
      instant('2026-12-01T12:00:00Z'),
    ),
    'an open wait ends now',
  );
  const half = faultClocks(
    { class: 'C', severity: 'general', reportedAt: instant('2026-12-01T16:50:00Z') },
    instant('2026-12-01T18:00:00Z'),
    { ...defaultClockSetting, warningShare: 0.5 },
  );
  t.equal(half.acknowledge.warnAt.toISOString(), '2026-12-02T08:12:30.000Z', 'the warning counts service hours too (50 % of 45 min)');
  t.equal(half.acknowledge.countedMs, minutes(10), 'only 10 min counted by the evening');
  t.ok(half.serviceHours);
});

t.test('the cutoffs GET /metrics counts with agree with the clocks', async (t) => {
  for (const now of ['2026-12-01T10:00:00Z', '2026-12-01T20:00:00Z', '2026-12-07T08:10:00Z', '2026-12-02T08:00:00Z']) {
    const cutoffs = lateCutoffs(instant(now));
    for (const cutoff of cutoffs.acknowledge) {
      const before = new Date(cutoff.reportedBefore.getTime() - 1);
      t.ok(
        breaches({ class: cutoff.class, severity: cutoff.severity, reportedAt: before }, instant(now)).acknowledge,
        `${cutoff.class} just before the cutoff at ${now} is late`,
      );
      t.notOk(
        breaches({ class: cutoff.class, severity: cutoff.severity, reportedAt: cutoff.reportedBefore }, instant(now)).acknowledge,
        `${cutoff.class} at the cutoff is not`,
      );
    }
  }
});

t.test('calendars are checked, and read from the --service-hours flag', async (t) => {
  t.equal(
    errorCode(() => validateServiceHours({ ...madrid, zone: 'Mars/Olympus' })),
    'invalid_service_hours',
  );
  t.equal(
    errorCode(() => validateServiceHours({ ...madrid, weekdays: [] })),
    'invalid_service_hours',
  );
  t.equal(
    errorCode(() => validateServiceHours({ ...madrid, opens: '18:00' })),
    'invalid_service_hours',
  );
  t.equal(
    errorCode(() => validateServiceHours({ ...madrid, holidays: ['2026-13-01'] })),
    'invalid_service_hours',
  );
  t.same(serviceHoursFrom('Mon-Fri 08:00-17:00 Europe/Madrid holidays 2026-12-08,2026-12-25'), madrid);
  t.same(serviceHoursFrom('sat,sun 10:00-14:00 UTC').weekdays, [6, 7]);
  t.same(serviceHoursFrom('Fri-Mon 10:00-14:00 UTC').weekdays, [1, 5, 6, 7], 'a range may wrap over the weekend');
  t.throws(() => serviceHoursFrom('weekdays 8-5'), /--service-hours/);
});
