// The vendor's service hours (DESIGN.md, "Notifications and service hours"): weekdays, daily
// hours and holidays in one IANA zone. Clocks that count "within service hours" count only the
// instants inside these spans. Local times are turned into instants with the zone's real
// rules (luxon): an opening hour that falls in a spring-forward gap opens at the first valid
// instant after it, and a day shortened or lengthened by DST counts its real length.
import { DateTime, IANAZone } from 'luxon';
import { SluiceError } from '../errors.js';
import { resolveLocal } from './windows.js';

export interface ServiceHours {
  /** IANA zone the hours and holidays are read in. */
  zone: string;
  /** ISO weekdays the service is open: 1 Monday … 7 Sunday. */
  weekdays: readonly number[];
  /** Local opening and closing time, 'HH:mm'; closing '24:00' means midnight at the day's end. */
  opens: string;
  closes: string;
  /** Local dates ('YYYY-MM-DD') the service is closed all day. */
  holidays: readonly string[];
}

/** README, "Service hours": Monday to Friday, 08:00 to 17:00, in UTC unless configured. */
export const defaultServiceHours: ServiceHours = Object.freeze({
  zone: 'UTC',
  weekdays: [1, 2, 3, 4, 5],
  opens: '08:00',
  closes: '17:00',
  holidays: [],
});

export interface Span {
  start: Date;
  end: Date;
}

const clockTime = /^([01]\d|2[0-4]):([0-5]\d)$/;
const localDate = /^\d{4}-\d{2}-\d{2}$/;
// A calendar is searched at most this far ahead or back: far beyond any contract clock.
const searchDays = 3 * 366;

function minutesOf(text: string, field: string): number {
  const match = clockTime.exec(text);
  const minutes = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  if (!match || minutes > 24 * 60)
    throw new SluiceError(
      'invalid_service_hours',
      `service hours: ${field} must be a time HH:mm from 00:00 to 24:00, not ${JSON.stringify(text)}`,
    );
  return minutes;
}

/** Refuses, naming the field, a calendar that could not be counted in. */
export function validateServiceHours(hours: ServiceHours): ServiceHours {
  if (!IANAZone.isValidZone(hours.zone))
    throw new SluiceError('invalid_service_hours', `service hours: unknown time zone ${JSON.stringify(hours.zone)}`);
  if (hours.weekdays.length === 0 || hours.weekdays.some((day) => !Number.isInteger(day) || day < 1 || day > 7)) {
    throw new SluiceError('invalid_service_hours', 'service hours: weekdays must name at least one ISO weekday, 1 (Monday) to 7 (Sunday)');
  }
  if (minutesOf(hours.opens, 'opens') >= minutesOf(hours.closes, 'closes'))
    throw new SluiceError('invalid_service_hours', 'service hours: "opens" must be before "closes"');
  for (const day of hours.holidays) {
    if (!localDate.test(day) || !DateTime.fromISO(day).isValid)
      throw new SluiceError('invalid_service_hours', `service hours: holiday ${JSON.stringify(day)} is not a date YYYY-MM-DD`);
  }
  return hours;
}

/** The open span of one local day, or null when the service is closed that day. */
function daySpan(hours: ServiceHours, day: DateTime): Span | null {
  if (!hours.weekdays.includes(day.weekday) || hours.holidays.includes(day.toISODate()!)) return null;
  const opens = minutesOf(hours.opens, 'opens');
  const closes = minutesOf(hours.closes, 'closes');
  const start = localMinute(day, opens);
  const end = localMinute(day, closes);
  return end > start ? { start, end } : null;
}

/**
 * A local wall-clock minute of `day` as an instant, by the maintenance windows' rule
 * (windows.ts resolveLocal): the first occurrence on a fall-back night, the gap's end in a
 * spring-forward gap. 24:00 is the next day's midnight.
 */
function localMinute(day: DateTime, minutes: number): Date {
  return resolveLocal(Date.UTC(day.year, day.month - 1, day.day) + minutes * 60_000, day.zoneName!);
}

/** The open spans from `from` onwards (the first one clipped to it), in order. */
export function* spansFrom(hours: ServiceHours, from: Date): Generator<Span> {
  let day = DateTime.fromJSDate(from, { zone: hours.zone }).startOf('day');
  for (let index = 0; index < searchDays; index++, day = day.plus({ days: 1 })) {
    const span = daySpan(hours, day);
    if (!span || span.end <= from) continue;
    yield { start: span.start < from ? from : span.start, end: span.end };
  }
}

/** The open spans before `to`, latest first (the first one clipped to it). */
export function* spansBefore(hours: ServiceHours, to: Date): Generator<Span> {
  let day = DateTime.fromJSDate(to, { zone: hours.zone }).startOf('day');
  for (let index = 0; index < searchDays; index++, day = day.minus({ days: 1 })) {
    const span = daySpan(hours, day);
    if (!span || span.start >= to) continue;
    yield { start: span.start, end: span.end > to ? to : span.end };
  }
}

/** Whether the service is open at `instant`. */
export function isOpen(hours: ServiceHours, instant: Date): boolean {
  const first = spansFrom(hours, instant).next();
  return !first.done && first.value.start.getTime() === instant.getTime();
}

/** Milliseconds of service time in [from, to). */
export function serviceTimeBetween(hours: ServiceHours, from: Date, to: Date): number {
  let total = 0;
  if (to <= from) return 0;
  for (const span of spansFrom(hours, from)) {
    if (span.start >= to) break;
    total += Math.min(span.end.getTime(), to.getTime()) - span.start.getTime();
  }
  return total;
}

/**
 * The latest instant `start` such that [start, to) holds `milliseconds` of service time:
 * a fault reported before it has used up a clock of that length by `to`.
 */
export function subtractServiceTime(hours: ServiceHours, to: Date, milliseconds: number): Date {
  let left = milliseconds;
  for (const span of spansBefore(hours, to)) {
    const length = span.end.getTime() - span.start.getTime();
    if (length >= left) return new Date(span.end.getTime() - left);
    left -= length;
  }
  return new Date(-8.64e15);
}
