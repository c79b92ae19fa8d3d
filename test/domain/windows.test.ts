// Window arithmetic across four zones (issue: plans): Madrid and New York (1-hour DST),
// Shanghai (no DST), Lord Howe (30-minute DST), with DESIGN.md's gap and fall-back rules.
import t from 'tap';
import fc from 'fast-check';
import { validateWindow, nextOccurrence, occurrenceCovering, installAllowed, occurrencesBetween, earliestInstallSlot, describeWindow, type MaintenanceWindow } from '../../server/domain/windows.js';
import { errorCode } from '../helpers/errors.js';

const at = (iso: string) => new Date(iso);


t.test('one-off window starts: ordinary, in a spring-forward gap, on a fall-back night', async (t) => {
  const table: { zone: string; start: string; end: string; expectStart: string; expectEnd: string; why: string }[] = [
    { zone: 'Europe/Madrid', start: '2026-12-06T02:00', end: '2026-12-06T05:00', expectStart: '2026-12-06T01:00:00.000Z', expectEnd: '2026-12-06T04:00:00.000Z', why: 'winter, UTC+1' },
    { zone: 'Europe/Madrid', start: '2026-03-29T02:30', end: '2026-03-29T05:00', expectStart: '2026-03-29T01:00:00.000Z', expectEnd: '2026-03-29T03:00:00.000Z', why: 'gap: 02:30 does not exist, moves to 03:00 CEST' },
    { zone: 'Europe/Madrid', start: '2026-10-25T02:30', end: '2026-10-25T04:00', expectStart: '2026-10-25T00:30:00.000Z', expectEnd: '2026-10-25T03:00:00.000Z', why: 'fall-back: 02:30 happens twice, the first (CEST)' },
    { zone: 'America/New_York', start: '2026-03-08T02:30', end: '2026-03-08T04:00', expectStart: '2026-03-08T07:00:00.000Z', expectEnd: '2026-03-08T08:00:00.000Z', why: 'gap: 02:30 moves to 03:00 EDT' },
    { zone: 'America/New_York', start: '2026-11-01T01:30', end: '2026-11-01T03:00', expectStart: '2026-11-01T05:30:00.000Z', expectEnd: '2026-11-01T08:00:00.000Z', why: 'fall-back: the first 01:30 (EDT)' },
    { zone: 'Asia/Shanghai', start: '2026-03-29T02:30', end: '2026-03-29T05:00', expectStart: '2026-03-28T18:30:00.000Z', expectEnd: '2026-03-28T21:00:00.000Z', why: 'no DST: always UTC+8' },
    { zone: 'Asia/Shanghai', start: '2026-10-25T02:30', end: '2026-10-25T03:00', expectStart: '2026-10-24T18:30:00.000Z', expectEnd: '2026-10-24T19:00:00.000Z', why: 'no DST in autumn either' },
    { zone: 'Australia/Lord_Howe', start: '2026-10-04T02:15', end: '2026-10-04T04:00', expectStart: '2026-10-03T15:30:00.000Z', expectEnd: '2026-10-03T17:00:00.000Z', why: '30-minute gap: 02:15 moves to 02:30 (+11)' },
    { zone: 'Australia/Lord_Howe', start: '2026-04-05T01:45', end: '2026-04-05T03:00', expectStart: '2026-04-04T14:45:00.000Z', expectEnd: '2026-04-04T16:30:00.000Z', why: '30-minute fall-back: the first 01:45 (+11)' },
  ];
  for (const row of table) {
    const window = validateWindow({ start: row.start, end: row.end, timezone: row.zone });
    const occurrence = nextOccurrence(window, at('2026-01-01T00:00:00Z'))!;
    t.equal(occurrence.start.toISOString(), row.expectStart, `${row.zone} ${row.why}: start`);
    t.equal(occurrence.end.toISOString(), row.expectEnd, `${row.zone} ${row.why}: end`);
  }
});

t.test('recurring windows follow the same rules on transition days', async (t) => {
  const table: { window: MaintenanceWindow; from: string; to: string; starts: string[]; why: string }[] = [
    { window: { cron: '30 2 * * *', duration: 'PT1H', timezone: 'Europe/Madrid' }, from: '2026-03-27T00:00Z', to: '2026-03-31T00:00Z', why: 'spring-forward day moves to 03:00',
      starts: ['2026-03-27T01:30:00.000Z', '2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'] },
    { window: { cron: '30 2 * * *', duration: 'PT1H', timezone: 'Europe/Madrid' }, from: '2026-10-24T00:00Z', to: '2026-10-27T00:00Z', why: 'fall-back night: once, the first',
      starts: ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'] },
    { window: { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'America/New_York' }, from: '2026-03-01T00:00Z', to: '2026-03-16T00:00Z', why: 'Sundays at 02:00; 8 March has no 02:00',
      starts: ['2026-03-01T07:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-15T06:00:00.000Z'] },
    { window: { cron: '0 3 * * *', duration: 'PT2H', timezone: 'Asia/Shanghai' }, from: '2026-03-28T00:00Z', to: '2026-03-30T00:00Z', why: 'no DST',
      starts: ['2026-03-28T19:00:00.000Z', '2026-03-29T19:00:00.000Z'] },
    { window: { cron: '15 2 * * *', duration: 'PT1H', timezone: 'Australia/Lord_Howe' }, from: '2026-10-02T00:00Z', to: '2026-10-05T00:00Z', why: '30-minute gap',
      starts: ['2026-10-02T15:45:00.000Z', '2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z'] },
  ];
  for (const row of table) {
    const starts = occurrencesBetween(validateWindow(row.window), at(row.from), at(row.to)).map((occurrence) => occurrence.start.toISOString());
    t.same(starts, row.starts, `${(row.window as { timezone: string }).timezone}: ${row.why}`);
  }
});

t.test('an install is allowed only inside the occurrence and only if it still fits', async (t) => {
  const window = validateWindow({ start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Madrid' }); // 01:00Z–04:00Z
  const weekly = validateWindow({ cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Australia/Lord_Howe' });
  const table: [MaintenanceWindow, string, number, boolean, string][] = [
    [window, '2026-12-06T00:59:59Z', 600, false, 'one second before the start'],
    [window, '2026-12-06T01:00:00Z', 600, true, 'at the start'],
    [window, '2026-12-06T03:50:00Z', 600, true, 'exactly fits before the end'],
    [window, '2026-12-06T03:50:01Z', 600, false, 'one second too late to fit'],
    [window, '2026-12-06T04:00:00Z', 1, false, 'at the end'],
    [window, '2026-12-07T02:00:00Z', 1, false, 'the next day'],
    [weekly, '2026-12-05T15:30:00Z', 3600, true, 'Lord Howe Sunday 02:30 (+11)'],
    [weekly, '2026-12-05T17:30:00Z', 3600, false, 'Lord Howe Sunday 04:30: an hour no longer fits'],
    [{ asap: true }, '2026-12-05T17:30:00Z', 3600, true, 'an emergency window is open as soon as confirmed'],
  ];
  for (const [subject, instant, seconds, expected, why] of table) {
    t.equal(installAllowed(subject, at(instant), seconds), expected, why);
  }
  t.same(occurrenceCovering(window, at('2026-12-06T02:00:00Z'))?.start.toISOString(), '2026-12-06T01:00:00.000Z');
  t.equal(occurrenceCovering(window, at('2026-12-06T05:00:00Z')), null);
  const slot = earliestInstallSlot([window], at('2026-12-06T03:55:00Z'), 600);
  t.equal(slot, null, 'no later occurrence of a one-off window');
  t.equal(earliestInstallSlot([weekly], at('2026-12-05T17:30:00Z'), 3600)?.installAt.toISOString(), '2026-12-12T15:00:00.000Z', 'waits for the next Sunday');
});

t.test('bad windows are refused with a code naming the problem', async (t) => {
  const table: [unknown, string][] = [
    [{ start: '2026-12-06T05:00', end: '2026-12-06T02:00', timezone: 'Europe/Madrid' }, 'invalid_window'],
    [{ start: '2026-12-06T02:00', end: '2026-12-06T02:00', timezone: 'Europe/Madrid' }, 'invalid_window'],
    [{ start: '2026-02-30T02:00', end: '2026-03-01T02:00', timezone: 'Europe/Madrid' }, 'invalid_window'],
    [{ start: 'tomorrow', end: '2026-12-06T02:00', timezone: 'Europe/Madrid' }, 'invalid_window'],
    [{ start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Atlantis' }, 'invalid_timezone'],
    [{ cron: 'every sunday', duration: 'PT3H', timezone: 'Europe/Madrid' }, 'invalid_cron'],
    [{ cron: '0 25 * * *', duration: 'PT3H', timezone: 'Europe/Madrid' }, 'invalid_cron'],
    [{ cron: '0 2 * * 0', duration: 'three hours', timezone: 'Europe/Madrid' }, 'invalid_window'],
    [{ cron: '0 2 * * 0', duration: 'PT0S', timezone: 'Europe/Madrid' }, 'invalid_window'],
    [{ asap: false }, 'invalid_timezone'],
    [[], 'invalid_window'],
  ];
  for (const [window, code] of table) {
    t.equal(errorCode(() => validateWindow(window)), code, `${JSON.stringify(window)} → ${code}`);
  }
});

t.test('properties: recurring occurrences never overlap; installAllowed implies it fits', async (t) => {
  const zones = ['Europe/Madrid', 'America/New_York', 'Asia/Shanghai', 'Australia/Lord_Howe'];
  fc.assert(fc.property(
    fc.constantFrom(...zones), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 12 }),
    fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: 60, max: 20000 }),
    (zone, hour, minute, hours, instant, seconds) => {
      const window = validateWindow({ cron: `${minute} ${hour} * * *`, duration: `PT${hours}H`, timezone: zone });
      const occurrences = occurrencesBetween(window, instant, new Date(instant.getTime() + 5 * 86400_000));
      for (let index = 1; index < occurrences.length; index++) {
        if (hours < 22 && occurrences[index].start < occurrences[index - 1].end) return false;
        if (occurrences[index].start <= occurrences[index - 1].start) return false;
      }
      if (installAllowed(window, instant, seconds)) {
        const covering = occurrenceCovering(window, instant)!;
        return covering.start <= instant && instant.getTime() + seconds * 1000 <= covering.end.getTime();
      }
      return true;
    }), { numRuns: 150, seed: 42 });
  t.pass('properties hold');
  t.match(describeWindow({ cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid' }), /Sunday.*3 hours.*Europe\/Madrid/);
});
