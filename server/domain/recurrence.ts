// A recurring maintenance window as an iCalendar recurrence (RFC 5545, 3.3.10 and 3.8.5),
// so that a calendar shows every occurrence, not only the next one. Pure.
//
// The window's cron is read as windows.ts reads it: five fields over local wall-clock time
// in the window's zone. Most crons are one RRULE. Two kinds are not, and `cronRecurrence`
// says so instead of guessing:
//   - a day of month AND a day of week both restricted ("0 2 1 * 0"): cron takes either
//     (the 1st, or any Sunday), while an RRULE's BYMONTHDAY and BYDAY must both hold;
//   - a day-of-week field mixing plain days with "L" or "#" ("0 2 * * 1,5L"), which no single
//     frequency expresses.
// For those the caller lists the occurrences one by one (RDATE).
//
// One difference in DST rules is corrected rather than ignored: RFC 5545 reads a local time
// that a spring-forward gap skips with the offset before the gap (02:30 becomes 03:30), while
// DESIGN.md moves it to the first valid instant after the gap (03:00). `gapCorrections` gives
// the gap's starts to exclude (EXDATE) and the instants sluice uses instead (RDATE). On a
// fall-back night both take the first occurrence, so nothing differs there.
import { DateTime } from 'luxon';
import { CronExpressionParser } from 'cron-parser';
import { resolveLocal, type RecurringWindow } from './windows.js';

export type CronRecurrence = { rule: string } | { rule: null; why: string };

const weekdays = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

type FieldValue = number | string;
const numbers = (values: readonly FieldValue[]) => values.every((value) => typeof value === 'number');
const dayName = (value: number) => weekdays[value % 7];

/** The RRULE (without DTSTART and UNTIL, which the caller adds) for a five-field cron, or why there is none. */
export function cronRecurrence(expression: string): CronRecurrence {
  const fields = CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: new Date(0) }).fields;
  const parts: string[] = [];
  const dayOfMonth = fields.dayOfMonth.values as readonly FieldValue[];
  const dayOfWeek = fields.dayOfWeek.values as readonly FieldValue[];
  const monthRestricted = !fields.month.isWildcard && fields.month.values.length < 12;
  const domRestricted = !fields.dayOfMonth.isWildcard;
  const dowRestricted = !fields.dayOfWeek.isWildcard;
  if (domRestricted && dowRestricted) {
    return { rule: null, why: 'a day of month and a day of week are both restricted: cron takes either one, an RRULE needs both' };
  }
  if (dowRestricted) {
    const nth = fields.dayOfWeek.nthDay;
    if (nth > 0 && numbers(dayOfWeek)) {
      const days = [...new Set(dayOfWeek.map((value) => dayName(value as number)))];
      parts.push('FREQ=MONTHLY', `BYDAY=${days.map((name) => `${nth}${name}`).join(',')}`);
    } else if (dayOfWeek.every((value) => typeof value === 'string' && /^[0-7]L$/.test(value))) {
      parts.push('FREQ=MONTHLY', `BYDAY=${[...new Set(dayOfWeek.map((value) => `-1${dayName(Number(String(value)[0]))}`))].join(',')}`);
    } else if (numbers(dayOfWeek)) {
      parts.push('FREQ=WEEKLY', `BYDAY=${[...new Set(dayOfWeek.map((value) => dayName(value as number)))].join(',')}`);
    } else {
      return { rule: null, why: `the day-of-week field "${expression.trim().split(/\s+/)[4]}" mixes plain days with "L" or "#"` };
    }
  } else if (domRestricted) {
    if (!dayOfMonth.every((value) => typeof value === 'number' || value === 'L')) {
      return { rule: null, why: `the day-of-month field "${expression.trim().split(/\s+/)[2]}" has no RRULE form` };
    }
    parts.push('FREQ=MONTHLY', `BYMONTHDAY=${dayOfMonth.map((value) => (value === 'L' ? -1 : value)).join(',')}`);
  } else {
    parts.push('FREQ=DAILY');
  }
  if (monthRestricted) parts.push(`BYMONTH=${fields.month.values.join(',')}`);
  // Both always named: without them a recurrence takes the hour and minute of DTSTART only.
  parts.push(`BYHOUR=${fields.hour.values.join(',')}`, `BYMINUTE=${fields.minute.values.join(',')}`);
  return { rule: parts.join(';') };
}

/** iCalendar's local DATE-TIME form of a wall-clock time held as UTC milliseconds. */
export function localStamp(naive: number): string {
  return new Date(naive)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, '');
}

function wallClock(instant: number, zone: string): number {
  const local = DateTime.fromMillis(instant, { zone });
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
}

const offsetAt = (instant: number, zone: string) => DateTime.fromMillis(instant, { zone }).offset * minute;

/** The spring-forward transitions in [from, until): the instant, and the skipped wall times [gapStart, gapEnd). */
function gapsBetween(zone: string, from: number, until: number): { at: number; gapStart: number; gapEnd: number }[] {
  const gaps: { at: number; gapStart: number; gapEnd: number }[] = [];
  // Transitions are months apart; sampling every 12 hours cannot step over one.
  for (let sample = from - day; sample < until + day; sample += 12 * hour) {
    const before = offsetAt(sample, zone);
    if (offsetAt(sample + 12 * hour, zone) <= before) continue;
    let low = sample; // offset `before` here
    let high = sample + 12 * hour; // the later offset here
    while (high - low > minute) {
      const middle = low + Math.floor((high - low) / 2 / minute) * minute;
      if (offsetAt(middle, zone) === before) low = middle;
      else high = middle;
    }
    gaps.push({ at: high, gapStart: wallClock(high - minute, zone) + minute, gapEnd: wallClock(high, zone) });
  }
  return gaps;
}

/**
 * For the RRULE of `window` between `from` and `until`: the local starts inside a
 * spring-forward gap to exclude (EXDATE, local form) and the instants sluice installs at
 * instead (RDATE), per DESIGN.md's rule (several starts in one gap are one occurrence).
 */
export function gapCorrections(window: RecurringWindow, from: Date, until: Date): { exclude: string[]; add: Date[] } {
  const exclude: string[] = [];
  const add = new Map<number, Date>();
  for (const gap of gapsBetween(window.timezone, from.getTime(), until.getTime())) {
    const iterator = CronExpressionParser.parse(window.cron, { tz: 'UTC', currentDate: new Date(gap.gapStart - 1000) });
    for (let count = 0; count < 120; count++) {
      const naive = iterator.next().getTime();
      if (naive >= gap.gapEnd) break;
      const moved = resolveLocal(naive, window.timezone);
      if (moved < from || moved > until) continue;
      exclude.push(localStamp(naive));
      add.set(moved.getTime(), moved);
    }
    // The instant after the gap may be a start of its own already (e.g. 03:00 in "0 2,3 * * *").
    const after = CronExpressionParser.parse(window.cron, { tz: 'UTC', currentDate: new Date(gap.gapEnd - 1000) })
      .next()
      .getTime();
    if (after === gap.gapEnd) add.delete(gap.at);
  }
  return { exclude, add: [...add.values()] };
}
