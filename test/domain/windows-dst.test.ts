// DESIGN.md, "Maintenance windows": "a start that falls in a spring-forward gap moves to the
// first valid instant after it; a start that occurs twice on a fall-back night is the first
// occurrence". Recurring (cron) starts obey the same rules as one-off ones, in four zones:
// Madrid and New York (1-hour shifts), Shanghai (no DST), Lord Howe (30-minute shifts).
import t from 'tap';
import { DateTime } from 'luxon';
import { CronExpressionParser } from 'cron-parser';
import {
  validateWindow,
  occurrencesBetween,
  occurrenceCovering,
  installAllowed,
  type MaintenanceWindow,
} from '../../server/domain/windows.js';

const iso = (date: Date) => date.toISOString();
const offsetAt = (instant: string, zone: string) => DateTime.fromISO(instant, { zone: 'utc' }).setZone(zone).offset;

t.test('the 2026 transitions the expectations below rely on (checked with luxon)', async (t) => {
  const table: { zone: string; at: string; before: number; after: number; what: string }[] = [
    { zone: 'Europe/Madrid', at: '2026-03-29T01:00:00Z', before: 60, after: 120, what: 'spring: 02:00 CET → 03:00 CEST' },
    { zone: 'Europe/Madrid', at: '2026-10-25T01:00:00Z', before: 120, after: 60, what: 'autumn: 03:00 CEST → 02:00 CET' },
    { zone: 'America/New_York', at: '2026-03-08T07:00:00Z', before: -300, after: -240, what: 'spring: 02:00 EST → 03:00 EDT' },
    { zone: 'America/New_York', at: '2026-11-01T06:00:00Z', before: -240, after: -300, what: 'autumn: 02:00 EDT → 01:00 EST' },
    {
      zone: 'Australia/Lord_Howe',
      at: '2026-04-04T15:00:00Z',
      before: 660,
      after: 630,
      what: 'autumn: 02:00 +11 → 01:30 +10:30 on 5 April',
    },
    {
      zone: 'Australia/Lord_Howe',
      at: '2026-10-03T15:30:00Z',
      before: 630,
      after: 660,
      what: 'spring: 02:00 +10:30 → 02:30 +11 on 4 October',
    },
  ];
  for (const row of table) {
    const justBefore = new Date(Date.parse(row.at) - 60_000).toISOString();
    t.equal(offsetAt(justBefore, row.zone), row.before, `${row.zone} ${row.what}: before`);
    t.equal(offsetAt(row.at, row.zone), row.after, `${row.zone} ${row.what}: after`);
  }
  t.equal(offsetAt('2026-03-29T01:00:00Z', 'Asia/Shanghai'), 480);
  t.equal(offsetAt('2026-10-25T01:00:00Z', 'Asia/Shanghai'), 480, 'Shanghai keeps +8 all year');
});

t.test("cron-parser's own tz handling disagrees with DESIGN.md, which is why windows.ts does not use it", async (t) => {
  const library = (cron: string, from: string, zone: string, count: number) => {
    const iterator = CronExpressionParser.parse(cron, { currentDate: new Date(from), tz: zone });
    return Array.from({ length: count }, () => iterator.next().toISOString() ?? '');
  };
  const ours = (cron: string, from: string, to: string, zone: string) =>
    occurrencesBetween(validateWindow({ cron, duration: 'PT1H', timezone: zone }), new Date(from), new Date(to)).map((occurrence) =>
      iso(occurrence.start),
    );
  // Madrid, 29 March 02:30 does not exist: DESIGN.md says 03:00 CEST (01:00Z).
  t.not(
    library('30 2 * * *', '2026-03-29T00:00:00Z', 'Europe/Madrid', 1)[0],
    '2026-03-29T01:00:00.000Z',
    'cron-parser does not move a gap start to the first valid instant',
  );
  t.same(ours('30 2 * * *', '2026-03-29T00:00:00Z', '2026-03-29T02:00:00Z', 'Europe/Madrid'), ['2026-03-29T01:00:00.000Z'], 'ours does');
  // Lord Howe, 4 October 02:15 does not exist: DESIGN.md says 02:30 (+11), 15:30Z on the 3rd.
  t.notOk(
    library('15 2 * * *', '2026-10-02T00:00:00Z', 'Australia/Lord_Howe', 3).some((start) => start.startsWith('2026-10-03')),
    'cron-parser skips the day altogether',
  );
  t.same(
    ours('15 2 * * *', '2026-10-03T00:00:00Z', '2026-10-04T00:00:00Z', 'Australia/Lord_Howe'),
    ['2026-10-03T15:30:00.000Z'],
    'ours keeps it',
  );
});

const daily = (cron: string, zone: string): MaintenanceWindow => ({ cron, duration: 'PT1H', timezone: zone });

t.test('recurring starts on transition days, every zone', async (t) => {
  const table: { window: MaintenanceWindow; from: string; to: string; starts: string[]; why: string }[] = [
    {
      window: daily('30 2 * * *', 'Europe/Madrid'),
      from: '2026-03-27T00:00Z',
      to: '2026-03-31T00:00Z',
      why: 'gap: 02:30 → 03:00 CEST',
      starts: ['2026-03-27T01:30:00.000Z', '2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    },
    {
      window: daily('30 2 * * *', 'Europe/Madrid'),
      from: '2026-10-24T00:00Z',
      to: '2026-10-27T00:00Z',
      why: 'fall-back: 02:30 once, the first (CEST)',
      starts: ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    },
    {
      window: { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid' },
      from: '2026-03-22T00:00Z',
      to: '2026-04-06T00:00Z',
      why: 'Sunday 29 March has no 02:00',
      starts: ['2026-03-22T01:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-04-05T00:00:00.000Z'],
    },
    {
      window: { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid' },
      from: '2026-10-18T00:00Z',
      to: '2026-11-02T00:00Z',
      why: 'Sunday 25 October has 02:00 twice',
      starts: ['2026-10-18T00:00:00.000Z', '2026-10-25T00:00:00.000Z', '2026-11-01T01:00:00.000Z'],
    },
    {
      window: daily('30 2 * * *', 'America/New_York'),
      from: '2026-03-07T00:00Z',
      to: '2026-03-10T00:00Z',
      why: 'gap: 02:30 → 03:00 EDT',
      starts: ['2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
    },
    {
      window: daily('30 1 * * *', 'America/New_York'),
      from: '2026-10-31T00:00Z',
      to: '2026-11-03T00:00Z',
      why: 'fall-back: the first 01:30 (EDT)',
      starts: ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    },
    {
      window: daily('30 2 * * *', 'Asia/Shanghai'),
      from: '2026-03-28T00:00Z',
      to: '2026-03-31T00:00Z',
      why: 'no DST',
      starts: ['2026-03-28T18:30:00.000Z', '2026-03-29T18:30:00.000Z', '2026-03-30T18:30:00.000Z'],
    },
    {
      window: daily('15 2 * * *', 'Australia/Lord_Howe'),
      from: '2026-10-02T00:00Z',
      to: '2026-10-05T00:00Z',
      why: '30-minute gap: 02:15 → 02:30 (+11)',
      starts: ['2026-10-02T15:45:00.000Z', '2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z'],
    },
    {
      window: daily('45 1 * * *', 'Australia/Lord_Howe'),
      from: '2026-04-03T00:00Z',
      to: '2026-04-06T00:00Z',
      why: '30-minute fall-back: the first 01:45 (+11)',
      starts: ['2026-04-03T14:45:00.000Z', '2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z'],
    },
    {
      window: { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Australia/Lord_Howe' },
      from: '2026-10-01T00:00Z',
      to: '2026-10-12T00:00Z',
      why: "Sunday 02:00 is the gap's first minute → 02:30 (+11)",
      starts: ['2026-10-03T15:30:00.000Z', '2026-10-10T15:00:00.000Z'],
    },
    {
      window: { cron: '0,30 2 * * *', duration: 'PT30M', timezone: 'Europe/Madrid' },
      from: '2026-03-28T00:00Z',
      to: '2026-03-31T00:00Z',
      why: 'two wall times in one gap are one start',
      starts: [
        '2026-03-28T01:00:00.000Z',
        '2026-03-28T01:30:00.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T00:00:00.000Z',
        '2026-03-30T00:30:00.000Z',
      ],
    },
    {
      window: daily('0 * * * *', 'Europe/Madrid'),
      from: '2026-03-29T00:00Z',
      to: '2026-03-29T03:00Z',
      why: 'hourly across the gap: 02:00 and 03:00 are one start',
      starts: ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
    },
    {
      window: daily('0 * * * *', 'Europe/Madrid'),
      from: '2026-10-24T23:00Z',
      to: '2026-10-25T03:00Z',
      why: 'hourly across fall-back: the second 02:00 is not a start',
      starts: ['2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z', '2026-10-25T02:00:00.000Z'],
    },
  ];
  for (const row of table) {
    const starts = occurrencesBetween(validateWindow(row.window), new Date(row.from), new Date(row.to)).map((occurrence) =>
      iso(occurrence.start),
    );
    t.same(starts, row.starts, `${(row.window as { timezone: string }).timezone} "${(row.window as { cron: string }).cron}": ${row.why}`);
  }
});

t.test('a recurring occurrence keeps its length in real time, clipped only where the next one starts', async (t) => {
  const table: { window: MaintenanceWindow; instant: string; start: string | null; end?: string; why: string }[] = [
    {
      window: { cron: '0 1 * * *', duration: 'PT3H', timezone: 'Europe/Madrid' },
      instant: '2026-03-29T00:30:00Z',
      start: '2026-03-29T00:00:00.000Z',
      end: '2026-03-29T03:00:00.000Z',
      why: 'across the gap: 01:00 CET to 05:00 CEST, three real hours',
    },
    {
      window: { cron: '0 1 * * *', duration: 'PT3H', timezone: 'Europe/Madrid' },
      instant: '2026-10-25T01:30:00Z',
      start: '2026-10-24T23:00:00.000Z',
      end: '2026-10-25T02:00:00.000Z',
      why: 'across fall-back: 01:00 CEST to 03:00 CET',
    },
    {
      window: { cron: '0 2 * * *', duration: 'PT24H', timezone: 'Europe/Madrid' },
      instant: '2026-03-29T12:00:00Z',
      start: '2026-03-29T01:00:00.000Z',
      end: '2026-03-30T00:00:00.000Z',
      why: 'a 23-hour day clips a 24-hour window at the next start',
    },
    {
      window: daily('0 * * * *', 'Europe/Madrid'),
      instant: '2026-10-25T01:30:00Z',
      start: null,
      why: 'the repeated 02:00 hour is outside an hourly window: its start was the first 02:00',
    },
    {
      window: daily('30 1 * * *', 'America/New_York'),
      instant: '2026-11-01T06:15:00Z',
      start: '2026-11-01T05:30:00.000Z',
      end: '2026-11-01T06:30:00.000Z',
      why: 'one real hour from the first 01:30',
    },
  ];
  for (const row of table) {
    const covering = occurrenceCovering(validateWindow(row.window), new Date(row.instant));
    t.equal(covering ? iso(covering.start) : null, row.start, `${row.why}: start`);
    if (row.end) t.equal(covering ? iso(covering.end) : null, row.end, `${row.why}: end`);
  }
});

t.test('installAllowed on transition days', async (t) => {
  const lordHoweSunday = { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Australia/Lord_Howe' }; // 4 Oct: 15:30Z–18:30Z
  const newYorkFallBack = daily('30 1 * * *', 'America/New_York'); // 1 Nov: 05:30Z–06:30Z
  const madridGap = { start: '2026-03-29T02:30', end: '2026-03-29T04:00', timezone: 'Europe/Madrid' }; // 01:00Z–02:00Z
  const table: [MaintenanceWindow, string, number, boolean, string][] = [
    [lordHoweSunday, '2026-10-03T15:29:59Z', 60, false, 'Lord Howe: before 02:30 (+11)'],
    [lordHoweSunday, '2026-10-03T15:30:00Z', 3600, true, 'Lord Howe: at the moved start'],
    [lordHoweSunday, '2026-10-03T17:30:00Z', 3600, true, 'Lord Howe: an hour exactly fits'],
    [lordHoweSunday, '2026-10-03T17:30:01Z', 3600, false, 'Lord Howe: one second too late'],
    [lordHoweSunday, '2026-10-03T18:30:00Z', 1, false, 'Lord Howe: at the end'],
    [newYorkFallBack, '2026-11-01T05:30:00Z', 3600, true, 'New York: the first 01:30, a full hour'],
    [newYorkFallBack, '2026-11-01T06:00:00Z', 1800, true, 'New York: 01:00 EST, half an hour left'],
    [newYorkFallBack, '2026-11-01T06:30:00Z', 60, false, 'New York: the second 01:30 is after the end'],
    [madridGap, '2026-03-29T00:59:00Z', 60, false, 'Madrid: 01:59 CET, before the moved start'],
    [madridGap, '2026-03-29T01:00:00Z', 3600, true, 'Madrid: 03:00 CEST, an hour fits exactly'],
    [madridGap, '2026-03-29T01:00:01Z', 3600, false, 'Madrid: a second later it does not'],
  ];
  for (const [window, instant, seconds, expected, why] of table)
    t.equal(installAllowed(validateWindow(window), new Date(instant), seconds), expected, why);
});
