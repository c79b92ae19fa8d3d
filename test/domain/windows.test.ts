// Window arithmetic (DESIGN.md, "Maintenance windows") across four zones: Madrid and New York
// (1-hour DST), Shanghai (no DST), Lord Howe (30-minute DST). Transition days in detail live in
// windows-dst.test.ts; random checks in windows-properties.test.ts.
import t from 'tap';
import {
  validateWindow,
  nextOccurrence,
  occurrenceCovering,
  currentOrNextOccurrence,
  installAllowed,
  occurrencesBetween,
  earliestInstallSlot,
  describeWindow,
  anchorAsap,
  asapSpanSeconds,
  type MaintenanceWindow,
} from '../../server/domain/windows.js';
import { errorCode } from '../helpers/errors.js';

const at = (text: string) => new Date(text);
const span = (occurrence: { start: Date; end: Date } | null | undefined) =>
  occurrence ? `${occurrence.start.toISOString()}/${occurrence.end.toISOString()}` : null;

const madridOneOff = { start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Madrid' }; // 01:00Z–04:00Z
const madridSundays = { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid' };
const newYorkNights = { cron: '30 23 * * *', duration: 'PT90M', timezone: 'America/New_York' };
const shanghaiMonthly = { cron: '0 3 1 * *', duration: 'PT2H', timezone: 'Asia/Shanghai' };
const lordHoweSundays = { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Australia/Lord_Howe' };

t.test('one-off windows: ordinary, in a spring-forward gap, on a fall-back night', async (t) => {
  const table: { zone: string; start: string; end: string; expected: string; why: string }[] = [
    {
      zone: 'Europe/Madrid',
      start: '2026-12-06T02:00',
      end: '2026-12-06T05:00',
      expected: '2026-12-06T01:00:00.000Z/2026-12-06T04:00:00.000Z',
      why: 'winter, UTC+1',
    },
    {
      zone: 'Europe/Madrid',
      start: '2026-03-29T02:30',
      end: '2026-03-29T05:00',
      expected: '2026-03-29T01:00:00.000Z/2026-03-29T03:00:00.000Z',
      why: 'gap: 02:30 moves to 03:00 CEST',
    },
    {
      zone: 'Europe/Madrid',
      start: '2026-10-25T02:30',
      end: '2026-10-25T04:00',
      expected: '2026-10-25T00:30:00.000Z/2026-10-25T03:00:00.000Z',
      why: 'fall-back: the first 02:30 (CEST)',
    },
    {
      zone: 'Europe/Madrid',
      start: '2026-03-29T01:00',
      end: '2026-03-29T02:30',
      expected: '2026-03-29T00:00:00.000Z/2026-03-29T01:00:00.000Z',
      why: 'an end in the gap resolves by the same rule',
    },
    {
      zone: 'Europe/Madrid',
      start: '2026-10-25T01:00',
      end: '2026-10-25T02:30',
      expected: '2026-10-24T23:00:00.000Z/2026-10-25T00:30:00.000Z',
      why: 'an end on the fall-back night is the first 02:30',
    },
    {
      zone: 'America/New_York',
      start: '2026-03-08T02:30',
      end: '2026-03-08T04:00',
      expected: '2026-03-08T07:00:00.000Z/2026-03-08T08:00:00.000Z',
      why: 'gap: 02:30 moves to 03:00 EDT',
    },
    {
      zone: 'America/New_York',
      start: '2026-11-01T01:30',
      end: '2026-11-01T03:00',
      expected: '2026-11-01T05:30:00.000Z/2026-11-01T08:00:00.000Z',
      why: 'fall-back: the first 01:30 (EDT)',
    },
    {
      zone: 'Asia/Shanghai',
      start: '2026-03-29T02:30',
      end: '2026-03-29T05:00',
      expected: '2026-03-28T18:30:00.000Z/2026-03-28T21:00:00.000Z',
      why: 'no DST: always UTC+8',
    },
    {
      zone: 'Asia/Shanghai',
      start: '2026-10-25T02:30',
      end: '2026-10-25T03:00',
      expected: '2026-10-24T18:30:00.000Z/2026-10-24T19:00:00.000Z',
      why: 'no DST in autumn either',
    },
    {
      zone: 'Australia/Lord_Howe',
      start: '2026-10-04T02:15',
      end: '2026-10-04T04:00',
      expected: '2026-10-03T15:30:00.000Z/2026-10-03T17:00:00.000Z',
      why: '30-minute gap: 02:15 moves to 02:30 (+11)',
    },
    {
      zone: 'Australia/Lord_Howe',
      start: '2026-04-05T01:45',
      end: '2026-04-05T03:00',
      expected: '2026-04-04T14:45:00.000Z/2026-04-04T16:30:00.000Z',
      why: '30-minute fall-back: the first 01:45 (+11)',
    },
  ];
  for (const row of table) {
    const window = validateWindow({ start: row.start, end: row.end, timezone: row.zone });
    t.equal(span(nextOccurrence(window, at('2026-01-01T00:00:00Z'))), row.expected, `${row.zone}: ${row.why}`);
  }
});

t.test('nextOccurrence: the first occurrence starting at or after the instant', async (t) => {
  const table: [MaintenanceWindow, string, string | null, string][] = [
    [madridOneOff, '2026-12-01T00:00:00Z', '2026-12-06T01:00:00.000Z/2026-12-06T04:00:00.000Z', 'one-off ahead'],
    [madridOneOff, '2026-12-06T01:00:00Z', '2026-12-06T01:00:00.000Z/2026-12-06T04:00:00.000Z', 'one-off starting exactly now'],
    [madridOneOff, '2026-12-06T01:00:01Z', null, 'one-off already started: no next'],
    [madridSundays, '2026-12-05T12:00:00Z', '2026-12-06T01:00:00.000Z/2026-12-06T04:00:00.000Z', 'Madrid: the coming Sunday'],
    [madridSundays, '2026-12-06T01:00:00Z', '2026-12-06T01:00:00.000Z/2026-12-06T04:00:00.000Z', 'Madrid: starting exactly now'],
    [madridSundays, '2026-12-06T01:00:01Z', '2026-12-13T01:00:00.000Z/2026-12-13T04:00:00.000Z', 'Madrid: the Sunday after'],
    [madridSundays, '2026-07-04T12:00:00Z', '2026-07-05T00:00:00.000Z/2026-07-05T03:00:00.000Z', 'Madrid in summer, UTC+2'],
    [newYorkNights, '2026-11-01T00:00:00Z', '2026-11-01T03:30:00.000Z/2026-11-01T05:00:00.000Z', 'New York: 23:30 EDT on 31 October'],
    [newYorkNights, '2026-12-24T12:00:00Z', '2026-12-25T04:30:00.000Z/2026-12-25T06:00:00.000Z', 'New York: 23:30 EST'],
    [
      shanghaiMonthly,
      '2026-12-05T00:00:00Z',
      '2026-12-31T19:00:00.000Z/2026-12-31T21:00:00.000Z',
      'Shanghai: 1 January 03:00 is 31 December 19:00Z',
    ],
    [
      lordHoweSundays,
      '2026-10-01T00:00:00Z',
      '2026-10-03T15:30:00.000Z/2026-10-03T18:30:00.000Z',
      'Lord Howe: 02:00 is in the gap, 02:30 (+11)',
    ],
    [lordHoweSundays, '2026-06-01T00:00:00Z', '2026-06-06T15:30:00.000Z/2026-06-06T18:30:00.000Z', 'Lord Howe in winter, +10:30'],
    [
      { asap: true },
      '2026-12-01T00:00:00Z',
      `2026-12-01T00:00:00.000Z/${new Date(Date.parse('2026-12-01T00:00:00Z') + asapSpanSeconds * 1000).toISOString()}`,
      'emergency, not yet consented: from now',
    ],
    [
      { asap: true, from: '2026-12-02T00:00:00.000Z' },
      '2026-12-01T00:00:00Z',
      `2026-12-02T00:00:00.000Z/${new Date(Date.parse('2026-12-02T00:00:00Z') + asapSpanSeconds * 1000).toISOString()}`,
      'emergency: from the consent',
    ],
    [{ asap: true, from: '2026-12-02T00:00:00.000Z' }, '2026-12-03T00:00:00Z', null, 'emergency: its one occurrence has begun'],
  ];
  for (const [window, after, expected, why] of table) t.equal(span(nextOccurrence(window, at(after))), expected, why);
});

t.test('occurrenceCovering and currentOrNextOccurrence', async (t) => {
  const table: [MaintenanceWindow, string, string | null, string | null, string][] = [
    [madridOneOff, '2026-12-06T00:59:59Z', null, '2026-12-06T01:00:00.000Z', 'a second before'],
    [madridOneOff, '2026-12-06T01:00:00Z', '2026-12-06T01:00:00.000Z', '2026-12-06T01:00:00.000Z', 'at the start'],
    [madridOneOff, '2026-12-06T03:59:59Z', '2026-12-06T01:00:00.000Z', '2026-12-06T01:00:00.000Z', 'a second before the end'],
    [madridOneOff, '2026-12-06T04:00:00Z', null, null, 'at the end: closed, and no next'],
    [madridSundays, '2026-12-06T04:00:00Z', null, '2026-12-13T01:00:00.000Z', 'recurring, at the end: the next Sunday'],
    [
      newYorkNights,
      '2026-12-25T05:59:00Z',
      '2026-12-25T04:30:00.000Z',
      '2026-12-25T04:30:00.000Z',
      'New York: past midnight, still inside',
    ],
    [shanghaiMonthly, '2026-12-31T20:00:00Z', '2026-12-31T19:00:00.000Z', '2026-12-31T19:00:00.000Z', 'Shanghai: inside'],
    [lordHoweSundays, '2026-10-03T15:15:00Z', null, '2026-10-03T15:30:00.000Z', 'Lord Howe: in the gap-shifted quarter hour'],
    [
      { asap: true, from: '2026-12-02T00:00:00.000Z' },
      '2026-12-01T00:00:00Z',
      null,
      '2026-12-02T00:00:00.000Z',
      'emergency, before consent',
    ],
    [
      { asap: true, from: '2026-12-02T00:00:00.000Z' },
      '2026-12-20T00:00:00Z',
      '2026-12-02T00:00:00.000Z',
      '2026-12-02T00:00:00.000Z',
      'emergency, after consent',
    ],
  ];
  for (const [window, instant, covering, current, why] of table) {
    t.equal(occurrenceCovering(window, at(instant))?.start.toISOString() ?? null, covering, `${why}: covering`);
    t.equal(currentOrNextOccurrence(window, at(instant))?.start.toISOString() ?? null, current, `${why}: current or next`);
  }
});

t.test('occurrencesBetween: starts in [from, to), at most limit', async (t) => {
  const starts = (window: MaintenanceWindow, from: string, to: string, limit?: number) =>
    occurrencesBetween(window, at(from), at(to), limit).map((occurrence) => occurrence.start.toISOString());
  t.same(
    starts(madridSundays, '2026-12-01T00:00Z', '2026-12-20T01:00Z'),
    ['2026-12-06T01:00:00.000Z', '2026-12-13T01:00:00.000Z'],
    'the end bound is exclusive',
  );
  t.same(starts(madridSundays, '2026-12-01T00:00Z', '2027-12-01T00:00Z', 3).length, 3, 'limit');
  t.same(starts(madridSundays, '2026-12-01T00:00Z', '2027-12-01T00:00Z', 0), [], 'limit 0');
  t.same(
    starts({ cron: '* * * * *', duration: 'PT1M', timezone: 'Asia/Shanghai' }, '2026-12-01T00:00:30Z', '2026-12-01T00:03:00Z'),
    ['2026-12-01T00:01:00.000Z', '2026-12-01T00:02:00.000Z'],
    'every minute',
  );
  t.same(starts(madridOneOff, '2026-12-06T01:00:01Z', '2027-01-01T00:00Z'), [], 'a one-off that already started');
});

t.test('installAllowed: inside the occurrence and only if the install still fits', async (t) => {
  const table: [MaintenanceWindow, string, number, boolean, string][] = [
    [madridOneOff, '2026-12-06T00:59:59Z', 600, false, 'Madrid: a second before the start'],
    [madridOneOff, '2026-12-06T01:00:00Z', 600, true, 'Madrid: at the start'],
    [madridOneOff, '2026-12-06T02:30:00Z', 600, true, 'Madrid: inside'],
    [madridOneOff, '2026-12-06T03:50:00Z', 600, true, 'Madrid: exactly fits before the end'],
    [madridOneOff, '2026-12-06T03:50:01Z', 600, false, 'Madrid: a second too late to fit'],
    [madridOneOff, '2026-12-06T04:00:00Z', 1, false, 'Madrid: at the end'],
    [madridOneOff, '2026-12-07T02:00:00Z', 1, false, 'Madrid: the next day'],
    [madridOneOff, '2026-12-06T01:00:00Z', 3 * 3600 + 1, false, 'Madrid: longer than the whole window'],
    [newYorkNights, '2026-12-25T04:30:00Z', 5400, true, 'New York: the full 90 minutes'],
    [newYorkNights, '2026-12-25T05:00:00Z', 3600, true, 'New York: an hour exactly fits'],
    [newYorkNights, '2026-12-25T05:00:01Z', 3600, false, 'New York: a second later it does not'],
    [newYorkNights, '2026-12-25T06:00:00Z', 1, false, 'New York: after the end'],
    [shanghaiMonthly, '2026-12-31T19:00:00Z', 7200, true, 'Shanghai: at the start, two hours'],
    [shanghaiMonthly, '2026-12-31T20:30:00Z', 3600, false, 'Shanghai: too late'],
    [shanghaiMonthly, '2026-12-30T19:00:00Z', 60, false, 'Shanghai: the day before'],
    [lordHoweSundays, '2026-12-05T15:00:00Z', 3600, true, 'Lord Howe: Sunday 02:00 (+11)'],
    [lordHoweSundays, '2026-12-05T17:00:00Z', 3600, true, 'Lord Howe: an hour exactly fits'],
    [lordHoweSundays, '2026-12-05T17:30:00Z', 3600, false, 'Lord Howe: no longer fits'],
    [{ asap: true }, '2026-12-05T17:30:00Z', 3600, true, 'emergency, not yet consented: open'],
    [{ asap: true, from: '2026-12-05T17:30:00.000Z' }, '2026-12-05T17:29:59Z', 60, false, 'emergency: not before the consent'],
    [{ asap: true, from: '2026-12-05T17:30:00.000Z' }, '2027-06-05T17:30:00Z', 3600, true, 'emergency: still open months later'],
    [{ asap: true, from: '2026-12-05T17:30:00.000Z' }, '2027-12-05T17:30:00Z', 60, false, 'emergency: closed a year after the consent'],
  ];
  for (const [window, instant, seconds, expected, why] of table) t.equal(installAllowed(window, at(instant), seconds), expected, why);
});

t.test('earliestInstallSlot: the first instant an install fits, across windows', async (t) => {
  const table: [MaintenanceWindow[], string, number, string | null, string][] = [
    [[madridOneOff], '2026-12-01T00:00:00Z', 600, '2026-12-06T01:00:00.000Z', 'waits for the start'],
    [[madridOneOff], '2026-12-06T02:00:00Z', 600, '2026-12-06T02:00:00.000Z', 'inside: now'],
    [[madridOneOff], '2026-12-06T03:55:00Z', 600, null, 'too late, and a one-off has no next'],
    [[madridSundays], '2026-12-06T03:55:00Z', 600, '2026-12-13T01:00:00.000Z', 'too late: the next Sunday'],
    [[madridSundays, newYorkNights], '2026-12-07T00:00:00Z', 600, '2026-12-07T04:30:00.000Z', 'the earlier of two windows'],
    [[madridSundays], '2026-12-01T00:00:00Z', 4 * 3600, null, 'never fits'],
    [[], '2026-12-01T00:00:00Z', 60, null, 'no windows'],
    [[{ asap: true }], '2026-12-01T00:00:00Z', 600, '2026-12-01T00:00:00.000Z', 'emergency: now'],
  ];
  for (const [windows, instant, seconds, expected, why] of table)
    t.equal(earliestInstallSlot(windows, at(instant), seconds)?.installAt.toISOString() ?? null, expected, why);
});

t.test('validateWindow refuses with a code and a message naming the problem', async (t) => {
  const table: [unknown, string | null, RegExp | null][] = [
    [{ start: '2026-12-06T05:00', end: '2026-12-06T02:00', timezone: 'Europe/Madrid' }, 'invalid_window', /end after it starts/],
    [{ start: '2026-12-06T02:00', end: '2026-12-06T02:00', timezone: 'Europe/Madrid' }, 'invalid_window', /end after it starts/],
    [{ start: '2026-03-29T02:10', end: '2026-03-29T02:50', timezone: 'Europe/Madrid' }, 'invalid_window', /end after it starts/],
    [
      { start: '2026-02-30T02:00', end: '2026-03-01T02:00', timezone: 'Europe/Madrid' },
      'invalid_window',
      /start "2026-02-30T02:00" is not a real date/,
    ],
    [{ start: '2026-12-06T24:00', end: '2026-12-07T02:00', timezone: 'Europe/Madrid' }, 'invalid_window', /not a real date/],
    [{ start: 'tomorrow', end: '2026-12-06T02:00', timezone: 'Europe/Madrid' }, 'invalid_window', /start "tomorrow" must be a local time/],
    [{ start: '2026-12-06T02:00:00Z', end: '2026-12-06T05:00', timezone: 'Europe/Madrid' }, 'invalid_window', /must be a local time/],
    [{ start: '2026-12-01T02:00', end: '2026-12-09T02:00', timezone: 'Europe/Madrid' }, 'invalid_window', /at most 7 days/],
    [{ start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Atlantis' }, 'invalid_timezone', /Europe\/Atlantis/],
    [{ start: '2026-12-06T02:00', end: '2026-12-06T05:00' }, 'invalid_timezone', /undefined/],
    [{ cron: 'every sunday', duration: 'PT3H', timezone: 'Europe/Madrid' }, 'invalid_cron', /five fields/],
    [{ cron: '0 0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid' }, 'invalid_cron', /five fields/],
    [{ cron: '0 25 * * *', duration: 'PT3H', timezone: 'Europe/Madrid' }, 'invalid_cron', /0 25/],
    [{ cron: '0 2 30 2 *', duration: 'PT3H', timezone: 'Europe/Madrid' }, 'invalid_cron', /30 2/],
    [{ cron: '0 2 * * 0', duration: 'three hours', timezone: 'Europe/Madrid' }, 'invalid_window', /duration "three hours"/],
    [{ cron: '0 2 * * 0', duration: 'PT0S', timezone: 'Europe/Madrid' }, 'invalid_window', /more than zero/],
    [{ cron: '0 2 * * 0', duration: 'P8D', timezone: 'Europe/Madrid' }, 'invalid_window', /at most 7 days/],
    [{ cron: '0 * * * *', duration: 'PT2H', timezone: 'Europe/Madrid' }, 'invalid_window', /overlap/],
    [{ cron: '0 2 * * *', duration: 'PT25H', timezone: 'Europe/Madrid' }, 'invalid_window', /1 day between two starts/],
    [{ cron: '0 2 * * *', duration: 'PT24H', timezone: 'Europe/Madrid' }, null, null],
    [
      { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid', start: '2026-12-06T02:00' },
      'invalid_window',
      /is \{start, end, timezone\}/,
    ],
    [{ asap: false }, 'invalid_timezone', null],
    [{ asap: true, until: 'never' }, 'invalid_window', /exactly/],
    [{ asap: true }, null, null],
    [[], 'invalid_window', /an object/],
    [null, 'invalid_window', /an object/],
  ];
  for (const [window, code, message] of table) {
    t.equal(
      errorCode(() => validateWindow(window)),
      code,
      `${JSON.stringify(window)} → ${code}`,
    );
    if (message) t.throws(() => validateWindow(window), { message }, `${JSON.stringify(window)}: message`);
  }
  t.same(
    validateWindow({ asap: true, from: '2026-12-01T10:00:00+01:00' }),
    { asap: true, from: '2026-12-01T09:00:00.000Z' },
    'a pinned emergency window (from the database) is normalised',
  );
  t.same(validateWindow({ ...madridOneOff }), madridOneOff, 'returns the plain window');
});

t.test('anchorAsap pins only an unpinned emergency window', async (t) => {
  const consent = at('2026-12-01T09:00:00Z');
  t.same(anchorAsap({ asap: true }, consent), { asap: true, from: '2026-12-01T09:00:00.000Z' });
  t.same(
    anchorAsap({ asap: true, from: '2026-11-01T00:00:00.000Z' }, consent),
    { asap: true, from: '2026-11-01T00:00:00.000Z' },
    'an earlier consent stands',
  );
  t.same(anchorAsap(madridOneOff, consent), madridOneOff, 'other windows unchanged');
});

t.test('describeWindow: local time, zone named', async (t) => {
  const table: [MaintenanceWindow, string | undefined, string][] = [
    [madridOneOff, undefined, 'Sunday 6 December 2026, 02:00–05:00 (Europe/Madrid)'],
    [
      { start: '2026-12-05T22:00', end: '2026-12-06T02:00', timezone: 'Europe/Madrid' },
      undefined,
      'Saturday 5 December 2026, 22:00 – Sunday 6 December 2026, 02:00 (Europe/Madrid)',
    ],
    [
      { start: '2026-03-29T02:30', end: '2026-03-29T05:00', timezone: 'Europe/Madrid' },
      undefined,
      'Sunday 29 March 2026, 03:00–05:00 (Europe/Madrid)',
    ],
    [
      { start: '2026-10-04T02:15', end: '2026-10-04T04:00', timezone: 'Australia/Lord_Howe' },
      undefined,
      'Sunday 4 October 2026, 02:30–04:00 (Australia/Lord_Howe)',
    ],
    [madridOneOff, 'es-ES', 'domingo, 6 de diciembre de 2026, 02:00–05:00 (Europe/Madrid)'],
    [madridSundays, undefined, 'Every Sunday at 02:00 for 3 hours (Europe/Madrid)'],
    [newYorkNights, undefined, 'Every day at 23:30 for 1 hour, 30 minutes (America/New_York)'],
    [
      { cron: '0 2 * * 1-5', duration: 'PT1H', timezone: 'Asia/Shanghai' },
      undefined,
      'Every Monday to Friday at 02:00 for 1 hour (Asia/Shanghai)',
    ],
    [
      { cron: '30 1 * * SAT,SUN', duration: 'PT2H', timezone: 'Asia/Shanghai' },
      undefined,
      'Every Saturday and Sunday at 01:30 for 2 hours (Asia/Shanghai)',
    ],
    [
      { cron: '0 2 * * 0,3', duration: 'PT2H', timezone: 'Asia/Shanghai' },
      undefined,
      'Every Wednesday and Sunday at 02:00 for 2 hours (Asia/Shanghai)',
    ],
    [shanghaiMonthly, undefined, 'At 03:00, on day 1 of the month, for 2 hours (Asia/Shanghai)'],
    [madridSundays, 'es', 'A las 02:00, sólo el domingo, 3 horas (Europe/Madrid)'],
    [{ asap: true }, undefined, 'Emergency fix: as soon as the customer consents'],
  ];
  for (const [window, locale, expected] of table) t.equal(describeWindow(window, locale), expected, expected);
});
