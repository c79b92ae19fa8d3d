// A window's cron as an iCalendar RRULE (server/domain/recurrence.ts), as a table; and the
// DST gap corrections that keep a calendar on DESIGN.md's rule instead of RFC 5545's.
import t from 'tap';
import { cronRecurrence, gapCorrections } from '../../server/domain/recurrence.js';

const rules: [string, string | null][] = [
  ['0 2 * * 0', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0'],
  ['0 2 * * 7', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0'],
  ['30 1 * * 1-5', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=1;BYMINUTE=30'],
  ['0 23 * * *', 'FREQ=DAILY;BYHOUR=23;BYMINUTE=0'],
  ['*/30 2-3 * * *', 'FREQ=DAILY;BYHOUR=2,3;BYMINUTE=0,30'],
  ['0 2 1,15 * *', 'FREQ=MONTHLY;BYMONTHDAY=1,15;BYHOUR=2;BYMINUTE=0'],
  ['0 2 L * *', 'FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=2;BYMINUTE=0'],
  ['0 2 * 1,7 6', 'FREQ=WEEKLY;BYDAY=SA;BYMONTH=1,7;BYHOUR=2;BYMINUTE=0'],
  ['0 2 * * 5#2', 'FREQ=MONTHLY;BYDAY=2FR;BYHOUR=2;BYMINUTE=0'],
  ['0 2 * * 5L', 'FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=2;BYMINUTE=0'],
  // cron takes the 1st OR any Sunday; an RRULE would need both.
  ['0 2 1 * 0', null],
  ['0 2 1-7 * 1', null],
];

t.test('cronRecurrence', async (t) => {
  for (const [cron, rule] of rules) {
    const recurrence = cronRecurrence(cron);
    t.equal(recurrence.rule, rule, cron);
    if (recurrence.rule === null) t.match(recurrence, { why: /either/ }, `${cron}: says why`);
  }
});

t.test('gapCorrections: a start the spring-forward gap skips moves to the first instant after it', async (t) => {
  const from = new Date('2027-03-01T00:00:00Z');
  const until = new Date('2027-04-30T00:00:00Z');
  // Madrid skips 02:00-03:00 on 28 March 2027: RFC 5545 reads 02:30 as 03:30, DESIGN.md as 03:00.
  t.same(gapCorrections({ cron: '30 2 * * 0', duration: 'PT1H', timezone: 'Europe/Madrid' }, from, until), {
    exclude: ['20270328T023000'],
    add: [new Date('2027-03-28T01:00:00Z')],
  });
  // Several starts in one gap are one occurrence; 03:00 is a start of its own already.
  t.same(gapCorrections({ cron: '0,20,40 2,3 * * *', duration: 'PT10M', timezone: 'Europe/Madrid' }, from, until), {
    exclude: ['20270328T020000', '20270328T022000', '20270328T024000'],
    add: [],
  });
  t.same(gapCorrections({ cron: '0,20,40 2 * * *', duration: 'PT10M', timezone: 'Europe/Madrid' }, from, until), {
    exclude: ['20270328T020000', '20270328T022000', '20270328T024000'],
    add: [new Date('2027-03-28T01:00:00Z')],
  });
  t.same(
    gapCorrections({ cron: '0 4 * * *', duration: 'PT1H', timezone: 'Europe/Madrid' }, from, until),
    { exclude: [], add: [] },
    'outside the gap: nothing',
  );
  t.same(
    gapCorrections({ cron: '30 2 * * 0', duration: 'PT1H', timezone: 'Europe/Madrid' }, new Date('2027-04-01T00:00:00Z'), until),
    { exclude: [], add: [] },
    'no gap in the span',
  );
  t.same(
    gapCorrections({ cron: '30 2 * * *', duration: 'PT1H', timezone: 'UTC' }, from, until),
    { exclude: [], add: [] },
    'a zone without DST',
  );
});
