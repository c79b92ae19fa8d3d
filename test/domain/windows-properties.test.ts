// Properties of window arithmetic over random windows and instants in four zones, checked
// against a brute-force oracle of DESIGN.md's rule ("the first valid instant" at or after a
// wall time: the first of two on a fall-back night, the jump's end in a spring-forward gap).
import t from 'tap';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  validateWindow,
  occurrencesBetween,
  occurrenceCovering,
  nextOccurrence,
  installAllowed,
  resolveLocal,
  type MaintenanceWindow,
} from '../../server/domain/windows.js';

const zones = ['Europe/Madrid', 'America/New_York', 'Asia/Shanghai', 'Australia/Lord_Howe'] as const;
const minute = 60_000;
const hour = 60 * minute;

/** Wall time shown at `instant` in `zone`, as milliseconds of a UTC calendar. */
function wallAt(instant: number, zone: string): number {
  const local = DateTime.fromMillis(instant, { zone });
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
}

/** Oracle: scan minute by minute for the first instant whose wall time is at or past `wall`. */
function firstInstantShowing(wall: number, zone: string): number {
  // Offsets in these zones lie between -5 h and +11 h: the answer is within that span of the wall time.
  for (let instant = wall - 12 * hour; instant <= wall + 6 * hour; instant += minute) {
    if (wallAt(instant, zone) >= wall) return instant;
  }
  throw new Error('no instant found');
}

// Instants biased towards the 2026 transition nights, where the rules matter.
const transitionNights = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01'];
const wallTimes = fc.oneof(
  fc
    .tuple(fc.constantFrom(...transitionNights), fc.integer({ min: 0, max: 4 * 60 - 1 }))
    .map(([date, minutes]) => Date.parse(`${date}T00:00:00Z`) + minutes * minute),
  fc
    .integer({ min: Date.parse('2026-01-01T00:00:00Z') / minute, max: Date.parse('2027-12-31T00:00:00Z') / minute })
    .map((minutes) => minutes * minute),
);
const instants = wallTimes.chain((wall) => fc.integer({ min: -36, max: 12 }).map((hours) => new Date(wall + hours * hour)));

t.test('a local time resolves to the first instant at or after it (oracle)', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(...zones),
      wallTimes,
      (zone, wall) => resolveLocal(wall, zone).getTime() === firstInstantShowing(wall, zone),
    ),
    { numRuns: 75, seed: 7 },
  );
  t.pass('resolveLocal agrees with the brute-force oracle');
});

t.test('daily cron starts are the oracle applied to each day, once per distinct instant', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(...zones),
      fc.integer({ min: 0, max: 23 }),
      fc.constantFrom(0, 15, 30, 45),
      fc.constantFrom(...transitionNights),
      (zone, hourOfDay, minuteOfHour, night) => {
        const window = validateWindow({ cron: `${minuteOfHour} ${hourOfDay} * * *`, duration: 'PT1H', timezone: zone });
        const midnight = Date.parse(`${night}T00:00:00Z`);
        const expected = [-1, 0, 1].map((days) =>
          firstInstantShowing(midnight + days * 24 * hour + hourOfDay * hour + minuteOfHour * minute, zone),
        );
        const from = new Date(expected[0]);
        const got = occurrencesBetween(window, from, new Date(expected[2] + 1)).map((occurrence) => occurrence.start.getTime());
        return JSON.stringify(got) === JSON.stringify([...new Set(expected)]);
      },
    ),
    { numRuns: 30, seed: 11 },
  );
  t.pass('cron expansion agrees with the oracle day by day');
});

const recurring = fc
  .record({
    zone: fc.constantFrom(...zones),
    minutes: fc.constantFrom('0', '30', '15,45', '*/20', '5'),
    hours: fc.constantFrom('*', '2', '1-3', '0,12', '*/6', '23'),
    weekdays: fc.constantFrom('*', '0', '1-5', '6,0'),
    // Durations equal to the interval make neighbours touch; on a 23-hour day a daily PT24H must be clipped.
    durationMinutes: fc.oneof(fc.integer({ min: 1, max: 24 * 60 }), fc.constantFrom(20, 30, 60, 360, 720, 24 * 60)),
  })
  .map(({ zone, minutes, hours, weekdays, durationMinutes }) => ({
    cron: `${minutes} ${hours} * * ${weekdays}`,
    duration: `PT${durationMinutes}M`,
    timezone: zone,
  }));

/** Only the windows validation accepts (those whose duration fits between two starts). */
function accepted(window: unknown): MaintenanceWindow | null {
  try {
    return validateWindow(window);
  } catch {
    return null;
  }
}

t.test('recurring occurrences are ordered, never overlap, never exceed their duration', async (t) => {
  fc.assert(
    fc.property(recurring, instants, (candidate, from) => {
      const window = accepted(candidate);
      if (!window) return true;
      const length = Number(candidate.duration.slice(2, -1)) * minute;
      const occurrences = occurrencesBetween(window, from, new Date(from.getTime() + 3 * 24 * hour), 200);
      return occurrences.every(
        (occurrence, index) =>
          occurrence.start >= from &&
          occurrence.end > occurrence.start &&
          occurrence.end.getTime() - occurrence.start.getTime() <= length &&
          (index === 0 || occurrence.start >= occurrences[index - 1].end),
      );
    }),
    { numRuns: 100, seed: 3 },
  );
  t.pass('no overlaps');
});

t.test('a daily 24-hour window never overlaps itself on 23-hour days (it is clipped)', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(...zones),
      fc.integer({ min: 0, max: 23 }),
      fc.constantFrom(...transitionNights),
      (zone, hourOfDay, night) => {
        const window = validateWindow({ cron: `0 ${hourOfDay} * * *`, duration: 'PT24H', timezone: zone });
        const from = new Date(Date.parse(`${night}T00:00:00Z`) - 48 * hour);
        const occurrences = occurrencesBetween(window, from, new Date(from.getTime() + 5 * 24 * hour));
        // Touching on short days (clipped), a gap only on long days (the full 24 hours).
        return occurrences.every((occurrence, index) => {
          if (index === 0) return true;
          const previous = occurrences[index - 1];
          return (
            occurrence.start >= previous.end &&
            (occurrence.start.getTime() === previous.end.getTime() || previous.end.getTime() - previous.start.getTime() === 24 * hour)
          );
        });
      },
    ),
    { numRuns: 30, seed: 13 },
  );
  t.pass('never overlapping, clipped where the day is short');
});

t.test('installAllowed holds exactly when the install fits in the covering occurrence', async (t) => {
  fc.assert(
    fc.property(recurring, instants, fc.integer({ min: 0, max: 6 * 3600 }), (candidate, instant, seconds) => {
      const window = accepted(candidate);
      if (!window) return true;
      const covering = occurrenceCovering(window, instant);
      const fits =
        covering !== null &&
        covering.start <= instant &&
        instant < covering.end &&
        instant.getTime() + seconds * 1000 <= covering.end.getTime();
      return installAllowed(window, instant, seconds) === fits;
    }),
    { numRuns: 100, seed: 5 },
  );
  t.pass('installAllowed ⇔ start ≤ t and t + D ≤ end');
});

t.test('nextOccurrence is the first start at or after the instant, and covering agrees', async (t) => {
  fc.assert(
    fc.property(recurring, instants, (candidate, instant) => {
      const window = accepted(candidate);
      if (!window) return true;
      const next = nextOccurrence(window, instant);
      if (!next) return false; // these crons always fire again
      const earlier = occurrencesBetween(window, new Date(instant.getTime() - 2 * 24 * hour), next.start, 1000);
      const before = earlier.filter((occurrence) => occurrence.start >= instant);
      const covering = occurrenceCovering(window, instant);
      const coveringIsListed =
        covering === null ||
        earlier.some(
          (occurrence) => occurrence.start.getTime() === covering.start.getTime() && occurrence.end.getTime() === covering.end.getTime(),
        );
      const coveringIsRight =
        covering === null
          ? !earlier.some((occurrence) => occurrence.start <= instant && instant < occurrence.end)
          : covering.start <= instant && instant < covering.end;
      return next.start >= instant && before.length === 0 && coveringIsListed && coveringIsRight;
    }),
    { numRuns: 75, seed: 9 },
  );
  t.pass('next and covering are consistent with the listing');
});
