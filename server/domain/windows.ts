// Maintenance window arithmetic (DESIGN.md, "Maintenance windows"). Pure: the instant is
// always passed in. A window is one-off or recurring, "always in the customer's IANA time
// zone", and local times are "converted with the zone's real rules" (luxon):
//   - "a start that falls in a spring-forward gap moves to the first valid instant after it";
//   - "a start that occurs twice on a fall-back night is the first occurrence".
// One-off ends resolve by the same rules. Cron expressions are expanded by cron-parser over
// *naive local wall-clock time* (a UTC calendar standing in for the local one), and each
// wall time is then resolved by the rules above. We do not use cron-parser's own `tz`
// option: on DST days it disagrees with DESIGN.md (Madrid 2026-03-29 02:30 gives 03:30, not
// 03:00; Lord Howe 2026-10-04 02:15 is skipped altogether); test/domain/windows-dst.test.ts
// pins both the library's behaviour and ours.
import { DateTime, Duration, IANAZone } from 'luxon';
import { CronExpressionParser } from 'cron-parser';
import cronstrueWithLocales from 'cronstrue/i18n.js';
import { SluiceError } from '../errors.js';

export type OneOffWindow = { start: string /* local 'YYYY-MM-DDTHH:mm' */; end: string; timezone: string };
export type RecurringWindow = { cron: string; duration: string /* ISO 8601, e.g. PT3H */; timezone: string };
/**
 * DESIGN.md: an emergency plan "may carry the window 'as soon as the customer consents'".
 * Without `from` (proposed, not yet consented) it is open from whatever instant is asked
 * about. `from` (an ISO instant, set by the server at confirmation through `anchorAsap`,
 * never by a client) fixes its one occurrence: from the consent for `asapSpanSeconds`.
 */
export type AsapWindow = { asap: true; from?: string };
export type MaintenanceWindow = OneOffWindow | RecurringWindow | AsapWindow;
export type Occurrence = { start: Date; end: Date };

const second = 1000;
const minute = 60 * second;
const day = 24 * 60 * minute;
/**
 * How long an "as soon as the customer consents" window stays open: one year, long past any
 * deadline, so in practice open-ended (a device that was offline for weeks still installs the
 * emergency fix), yet finite so that an occurrence's end stays an ordinary ISO timestamp.
 */
export const asapSpanSeconds = 365 * 24 * 3600;
/** The longest window we accept (one-off length or recurring duration). */
const maximumDuration = 7 * day;
const localPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

export const isOneOff = (window: MaintenanceWindow): window is OneOffWindow => 'start' in window;
export const isRecurring = (window: MaintenanceWindow): window is RecurringWindow => 'cron' in window;
export const isAsap = (window: MaintenanceWindow): window is AsapWindow => 'asap' in window;

/** Wall-clock time as milliseconds of a UTC calendar ("naive" local time). */
function parseLocal(text: string, field: string): number {
  const match = localPattern.exec(text);
  if (!match) throw new SluiceError('invalid_window', `${field} "${text}" must be a local time like 2026-12-06T02:00`);
  const [, year, month, dayOfMonth, hour, minutes] = match.map(Number);
  const naive = Date.UTC(year, month - 1, dayOfMonth, hour, minutes);
  const check = new Date(naive);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== dayOfMonth || hour > 23 || minutes > 59) {
    throw new SluiceError('invalid_window', `${field} "${text}" is not a real date and time`);
  }
  return naive;
}

function naiveOf(instant: number, zone: string): number {
  const local = DateTime.fromMillis(instant, { zone });
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, local.millisecond);
}

function offsetAt(instant: number, zone: string): number {
  return DateTime.fromMillis(instant, { zone }).offset * minute;
}

/** The offsets in force a day either side of `around`: both sides of any nearby transition. */
function offsetsNear(around: number, zone: string): number[] {
  return [...new Set([offsetAt(around - day, zone), offsetAt(around, zone), offsetAt(around + day, zone)])];
}

/**
 * The instant of a local wall-clock time in `zone`, by DESIGN.md's rule: the earliest
 * instant that shows this wall time (the first occurrence on a fall-back night), or, when no
 * instant shows it (a spring-forward gap), the first instant after the gap.
 */
export function resolveLocal(naive: number, zone: string): Date {
  // Pure in (naive, zone), and every check-in of a plan resolves the same few occurrence
  // starts again: luxon's zone offsets (Intl) were half of such a check-in's CPU.
  const key = `${zone} ${naive}`;
  let instant = resolved.get(key);
  if (instant === undefined) {
    if (resolved.size >= resolvedLimit) resolved.clear();
    instant = resolveUncached(naive, zone);
    resolved.set(key, instant);
  }
  return new Date(instant);
}

const resolved = new Map<string, number>();
const resolvedLimit = 10_000;

function resolveUncached(naive: number, zone: string): number {
  const offsets = offsetsNear(naive, zone);
  const candidates = offsets.map((offset) => naive - offset).filter((instant) => naiveOf(instant, zone) === naive);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the first instant whose wall time is at or past the requested one. Transitions
  // fall on whole minutes, so a binary search over minutes is exact.
  let low = Math.floor((naive - Math.max(...offsets)) / minute) - 1;
  let high = Math.ceil((naive - Math.min(...offsets)) / minute) + 1;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (naiveOf(middle * minute, zone) >= naive) high = middle;
    else low = middle;
  }
  return high * minute;
}

/** Resolve a local 'YYYY-MM-DDTHH:mm' in `zone` (DESIGN.md's gap and fall-back rules). */
export function resolveLocalTime(local: string, zone: string): Date {
  return resolveLocal(parseLocal(local, 'local time'), zone);
}

function durationMillis(text: string): number {
  const duration = Duration.fromISO(text);
  if (!duration.isValid) throw new SluiceError('invalid_window', `duration "${text}" is not an ISO 8601 duration like PT3H`);
  const millis = duration.as('milliseconds');
  if (!(millis > 0) || millis > maximumDuration)
    throw new SluiceError('invalid_window', `duration "${text}" must be more than zero and at most 7 days`);
  return millis;
}

/** Five fields, minute hour day-of-month month day-of-week, read over naive local time. */
function parseCron(expression: string, from: number) {
  return CronExpressionParser.parse(expression, { currentDate: new Date(from), tz: 'UTC' });
}

function validateCron(expression: string): void {
  if (expression.trim().split(/\s+/).length !== 5)
    throw new SluiceError('invalid_cron', `"${expression}" must have five fields: minute hour day-of-month month day-of-week`);
  try {
    parseCron(expression, Date.UTC(2026, 0, 1)).next();
  } catch (error) {
    throw new SluiceError('invalid_cron', `"${expression}" is not a cron expression: ${(error as Error).message}`);
  }
}

/**
 * The shortest time between two consecutive wall-clock starts, sampled over a year (at most
 * 400 starts). A recurring window whose duration is longer would overlap itself.
 */
function shortestInterval(expression: string): number {
  const begin = Date.UTC(2026, 0, 1);
  const iterator = parseCron(expression, begin);
  let shortest = Infinity;
  let previous: number | null = null;
  try {
    for (let count = 0; count < 400; count++) {
      const next = iterator.next().getTime();
      if (next > begin + 366 * day) break;
      if (previous !== null) shortest = Math.min(shortest, next - previous);
      previous = next;
    }
  } catch {
    // An expression that runs out of dates (cron-parser's loop limit) has no more intervals.
  }
  return shortest;
}

/** Checks a window from a request or the database; throws invalid_timezone, invalid_cron or invalid_window. */
export function validateWindow(value: unknown): MaintenanceWindow {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SluiceError('invalid_window', 'a window is an object');
  const window = value as Record<string, unknown>;
  if (window.asap === true) {
    const keys = Object.keys(window);
    if (keys.length === 1) return { asap: true };
    if (keys.length === 2 && typeof window.from === 'string' && !Number.isNaN(Date.parse(window.from)))
      return { asap: true, from: new Date(window.from).toISOString() };
    throw new SluiceError('invalid_window', 'an emergency window is exactly {"asap": true}');
  }
  if (typeof window.timezone !== 'string' || !IANAZone.isValidZone(window.timezone)) {
    throw new SluiceError('invalid_timezone', `timezone "${String(window.timezone)}" is not an IANA time zone like Europe/Madrid`);
  }
  if (typeof window.start === 'string' && typeof window.end === 'string' && window.cron === undefined && window.duration === undefined) {
    const oneOff: OneOffWindow = { start: window.start, end: window.end, timezone: window.timezone };
    const start = resolveLocal(parseLocal(oneOff.start, 'start'), oneOff.timezone);
    const end = resolveLocal(parseLocal(oneOff.end, 'end'), oneOff.timezone);
    if (end <= start)
      throw new SluiceError(
        'invalid_window',
        `the window must end after it starts: ${oneOff.start} to ${oneOff.end} in ${oneOff.timezone} is ${start.toISOString()} to ${end.toISOString()}`,
      );
    if (end.getTime() - start.getTime() > maximumDuration)
      throw new SluiceError('invalid_window', `a window lasts at most 7 days: ${oneOff.start} to ${oneOff.end}`);
    return oneOff;
  }
  if (typeof window.cron === 'string' && typeof window.duration === 'string' && window.start === undefined && window.end === undefined) {
    validateCron(window.cron);
    const length = durationMillis(window.duration);
    const interval = shortestInterval(window.cron);
    if (length > interval) {
      throw new SluiceError(
        'invalid_window',
        `duration ${window.duration} is longer than the ${Duration.fromMillis(interval).rescale().toHuman()} between two starts of "${window.cron}": occurrences would overlap`,
      );
    }
    return { cron: window.cron, duration: window.duration, timezone: window.timezone };
  }
  throw new SluiceError('invalid_window', 'a window is {start, end, timezone}, {cron, duration, timezone} or {asap: true}');
}

/** The server pins an emergency window to the instant the customer consented (confirmation). */
export function anchorAsap(window: MaintenanceWindow, consentedAt: Date): MaintenanceWindow {
  return isAsap(window) && window.from === undefined ? { asap: true, from: consentedAt.toISOString() } : window;
}

function asapOccurrence(window: AsapWindow, instant: Date): Occurrence {
  const start = window.from === undefined ? instant : new Date(window.from);
  return { start, end: new Date(start.getTime() + asapSpanSeconds * second) };
}

/** Resolved cron starts at or after `from`, in order, without duplicates. */
function* recurringStarts(window: RecurringWindow, from: Date): Generator<Date> {
  const zone = window.timezone;
  // Begin early enough to see wall times inside a gap that resolve to `from` or later: such
  // a wall time lies at most the nearby offset change before the wall time shown at `from`.
  const offsets = offsetsNear(from.getTime(), zone);
  const begin = naiveOf(from.getTime(), zone) - (Math.max(...offsets) - Math.min(...offsets)) - 1;
  const iterator = parseCron(window.cron, begin);
  let previous = -Infinity;
  // Bounded, in case wall times keep resolving before `from` (a fall-back hour, a gap).
  for (let skipped = 0; skipped < 10_000;) {
    let naive: number;
    try {
      naive = iterator.next().getTime();
    } catch {
      return; // cron-parser found no further date
    }
    const start = resolveLocal(naive, zone);
    // Several wall times inside one gap resolve to the same instant: one occurrence.
    if (start.getTime() <= previous || start < from) {
      skipped++;
      continue;
    }
    previous = start.getTime();
    yield start;
  }
}

/**
 * Occurrences whose start is at or after `from`, in order. A recurring occurrence lasts its
 * duration but ends no later than the next one starts: validation refuses durations longer
 * than the wall-clock interval, and this clips the hour lost on a spring-forward day, so
 * occurrences never overlap.
 */
function* occurrencesFrom(window: MaintenanceWindow, from: Date): Generator<Occurrence> {
  if (isAsap(window)) {
    const occurrence = asapOccurrence(window, from);
    if (occurrence.start >= from) yield occurrence;
    return;
  }
  if (isOneOff(window)) {
    const start = resolveLocal(parseLocal(window.start, 'start'), window.timezone);
    if (start >= from) yield { start, end: resolveLocal(parseLocal(window.end, 'end'), window.timezone) };
    return;
  }
  const length = durationMillis(window.duration);
  const starts = recurringStarts(window, from);
  let current = starts.next();
  while (!current.done) {
    const following = starts.next();
    const end = current.value.getTime() + length;
    yield { start: current.value, end: new Date(following.done ? end : Math.min(end, following.value.getTime())) };
    current = following;
  }
}

/** The first occurrence whose start is at or after `after` (DESIGN.md: "the next occurrence"). */
export function nextOccurrence(window: MaintenanceWindow, after: Date): Occurrence | null {
  for (const occurrence of occurrencesFrom(window, after)) return occurrence;
  return null;
}

/** The occurrence that contains `instant` (start ≤ instant < end), if any. */
export function occurrenceCovering(window: MaintenanceWindow, instant: Date): Occurrence | null {
  if (isAsap(window)) {
    const occurrence = asapOccurrence(window, instant);
    return occurrence.start <= instant && instant < occurrence.end ? occurrence : null;
  }
  // Occurrences never overlap and last at most their duration, so the covering one starts
  // within one duration before the instant.
  const lookBack = isOneOff(window) ? new Date(-8.64e15) : new Date(instant.getTime() - durationMillis(window.duration));
  for (const occurrence of occurrencesFrom(window, lookBack)) {
    if (occurrence.start > instant) break;
    if (occurrence.end > instant) return occurrence;
  }
  return null;
}

export function currentOrNextOccurrence(window: MaintenanceWindow, instant: Date): Occurrence | null {
  return occurrenceCovering(window, instant) ?? nextOccurrence(window, instant);
}

/** Occurrences starting in [from, to), in order, at most `limit`. */
export function occurrencesBetween(window: MaintenanceWindow, from: Date, to: Date, limit = 100): Occurrence[] {
  const result: Occurrence[] = [];
  if (limit <= 0) return result;
  for (const occurrence of occurrencesFrom(window, from)) {
    if (occurrence.start >= to) break;
    result.push(occurrence);
    if (result.length >= limit) break;
  }
  return result;
}

/**
 * DESIGN.md: the agent "installs only when now is inside the occurrence and the install's
 * expected duration still fits before its end".
 */
export function installAllowed(window: MaintenanceWindow, instant: Date, expectedSeconds: number): boolean {
  const occurrence = occurrenceCovering(window, instant);
  return occurrence !== null && instant.getTime() + expectedSeconds * second <= occurrence.end.getTime();
}

export type InstallSlot = { occurrence: Occurrence; installAt: Date };

/**
 * The earliest instant, at or after `instant`, at which an install of `expectedSeconds` may
 * start in any of the windows, with its occurrence ("otherwise it waits for the next
 * occurrence"). Looks at most 64 occurrences ahead per window.
 */
export function earliestInstallSlot(windows: MaintenanceWindow[], instant: Date, expectedSeconds: number): InstallSlot | null {
  let best: InstallSlot | null = null;
  for (const window of windows) {
    const covering = occurrenceCovering(window, instant);
    const candidates = [...(covering ? [covering] : []), ...occurrencesBetween(window, instant, new Date(8.64e15), 64)];
    for (const occurrence of candidates) {
      const installAt = occurrence.start > instant ? occurrence.start : instant;
      if (installAt.getTime() + expectedSeconds * second > occurrence.end.getTime()) continue;
      if (!best || installAt < best.installAt) best = { occurrence, installAt };
      break;
    }
  }
  return best;
}

// --- Human text (DESIGN.md, "Upgrade plans": the written plan shows "windows in the
// customer's local time"). The zone is always named, so the text is never ambiguous.

function localDate(instant: Date, zone: string, locale: string): string {
  const local = DateTime.fromJSDate(instant, { zone }).setLocale(locale);
  // British order without commas for the default; other locales as Intl writes them.
  return locale === 'en-GB' || locale === 'en'
    ? local.toFormat('cccc d LLLL yyyy')
    : local.toLocaleString({ weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

function localClock(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toFormat('HH:mm');
}

function humanDuration(text: string, locale: string): string {
  return Duration.fromISO(text).rescale().reconfigure({ locale }).toHuman({ unitDisplay: 'long' });
}

function listWords(words: string[], locale: string): string {
  return new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }).format(words);
}

/** English phrasing for the common shapes: "Every Sunday at 02:00", "Every day at 23:30". */
function describeCronInEnglish(expression: string): string | null {
  const [minuteField, hourField, dayOfMonthField, monthField, dayOfWeekField] = expression.trim().split(/\s+/);
  if (!/^\d+$/.test(minuteField) || !/^\d+$/.test(hourField) || !/^[*?]$/.test(dayOfMonthField) || monthField !== '*') return null;
  const clock = `${hourField.padStart(2, '0')}:${minuteField.padStart(2, '0')}`;
  if (/^[*?]$/.test(dayOfWeekField)) return `Every day at ${clock}`;
  if (!/^[0-7A-Za-z,-]+$/.test(dayOfWeekField) || /L/i.test(dayOfWeekField)) return null; // 'L', '#', steps: cronstrue says it
  const values = parseCron(expression, 0).fields.dayOfWeek.values;
  const days = [...new Set(values.map((value) => (value === 7 ? 0 : Number(value))))];
  if (days.length === 7) return `Every day at ${clock}`;
  const names = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  // Monday first, as a customer reads a week.
  const ordered = days.map((value) => (value + 6) % 7).sort((left, right) => left - right); // 0 = Monday
  const contiguous = ordered.length >= 3 && ordered.every((value, index) => index === 0 || value === ordered[index - 1] + 1);
  const word = (mondayFirst: number) => names[(mondayFirst + 1) % 7];
  if (contiguous) return `Every ${word(ordered[0])} to ${word(ordered[ordered.length - 1])} at ${clock}`;
  return `Every ${listWords(ordered.map(word), 'en-GB')} at ${clock}`;
}

/**
 * Human text for a window in the customer's local time with the zone named, e.g.
 * "Sunday 6 December 2026, 02:00–05:00 (Europe/Madrid)" or
 * "Every Sunday at 02:00 for 3 hours (Europe/Madrid)". One-off times are the resolved ones:
 * a start in a spring-forward gap reads as the instant the clocks jump to.
 */
export function describeWindow(window: MaintenanceWindow, locale = 'en-GB'): string {
  const english = locale === 'en' || locale.startsWith('en-');
  if (isAsap(window)) {
    const since =
      window.from === undefined
        ? 'as soon as the customer consents'
        : `from ${new Date(window.from).toISOString()}, when the customer consented`;
    return `Emergency fix: ${since}`;
  }
  if (isOneOff(window)) {
    const start = resolveLocal(parseLocal(window.start, 'start'), window.timezone);
    const end = resolveLocal(parseLocal(window.end, 'end'), window.timezone);
    const startDate = localDate(start, window.timezone, locale);
    const endDate = localDate(end, window.timezone, locale);
    const span =
      startDate === endDate
        ? `${startDate}, ${localClock(start, window.timezone)}–${localClock(end, window.timezone)}`
        : `${startDate}, ${localClock(start, window.timezone)} – ${endDate}, ${localClock(end, window.timezone)}`;
    return `${span} (${window.timezone})`;
  }
  const length = humanDuration(window.duration, locale);
  const plain = english ? describeCronInEnglish(window.cron) : null;
  if (plain) return `${plain} for ${length} (${window.timezone})`;
  const language = locale.split('-')[0];
  const every = cronstrueWithLocales.default.toString(window.cron, {
    use24HourTimeFormat: true,
    verbose: false,
    locale: language,
    throwExceptionOnParseError: false,
  });
  return `${every}, ${english ? 'for ' : ''}${length} (${window.timezone})`;
}
