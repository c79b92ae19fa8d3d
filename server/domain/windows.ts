// Maintenance window arithmetic (DESIGN.md, "Maintenance windows"). Pure: the instant is
// always passed in. Local times are resolved with the zone's real rules through luxon; cron
// expressions are expanded by cron-parser over *local wall-clock* times, then each local time
// is resolved by the same rule as a one-off start:
//   - a start in a spring-forward gap moves to the first valid instant after it;
//   - a start that occurs twice on a fall-back night is the first occurrence.
import { DateTime, Duration, IANAZone } from 'luxon';
import { CronExpressionParser } from 'cron-parser';
import cronstrue from 'cronstrue';
import { SluiceError } from '../errors.js';

export interface OneOffWindow { start: string; end: string; timezone: string }
export interface RecurringWindow { cron: string; duration: string; timezone: string }
/** Emergency plans (a fix for a class A or B fault): "as soon as the customer consents". */
export interface AsapWindow { asap: true }
export type MaintenanceWindow = OneOffWindow | RecurringWindow | AsapWindow;
export interface Occurrence { start: Date; end: Date }

const minute = 60_000;
const day = 24 * 60 * minute;
/** An "as soon as possible" window stays open this long after any instant asked about. */
const asapSpan = 30 * day;
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

/**
 * The instant of a local wall-clock time in `zone`, by DESIGN.md's rule: the earliest
 * instant that shows this wall time (first occurrence on a fall-back night), or, when no
 * instant shows it (a spring-forward gap), the first instant after the gap.
 */
export function resolveLocal(naive: number, zone: string): Date {
  // The offsets in force a day either side cover both sides of any single transition.
  const offsets = new Set([offsetAt(naive - day, zone), offsetAt(naive, zone), offsetAt(naive + day, zone)]);
  const candidates = [...offsets].map((offset) => naive - offset).filter((instant) => naiveOf(instant, zone) === naive);
  if (candidates.length > 0) return new Date(Math.min(...candidates));
  // In a gap: find the first instant whose wall time is past the requested one. Transitions
  // fall on whole minutes, so a binary search over minutes is exact.
  let low = Math.floor((naive - Math.max(...offsets)) / minute) - 1;
  let high = Math.ceil((naive - Math.min(...offsets)) / minute) + 1;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (naiveOf(middle * minute, zone) >= naive) high = middle;
    else low = middle;
  }
  return new Date(high * minute);
}

function durationMillis(text: string): number {
  const duration = Duration.fromISO(text);
  if (!duration.isValid) throw new SluiceError('invalid_window', `duration "${text}" is not an ISO 8601 duration like PT3H`);
  const millis = duration.as('milliseconds');
  if (millis <= 0 || millis > maximumDuration) throw new SluiceError('invalid_window', `duration "${text}" must be more than zero and at most 7 days`);
  return millis;
}

function parseCron(expression: string) {
  try {
    // Expanded over naive local time, hence the UTC calendar here (see the header comment).
    return (from: number) => CronExpressionParser.parse(expression, { currentDate: new Date(from), tz: 'UTC' });
  } catch {
    throw new SluiceError('invalid_cron', `"${expression}" is not a cron expression`);
  }
}

function validateCron(expression: string): void {
  if (expression.trim().split(/\s+/).length !== 5) throw new SluiceError('invalid_cron', `"${expression}" must have five fields: minute hour day month weekday`);
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC', strict: false }).next();
  } catch (error) {
    throw new SluiceError('invalid_cron', `"${expression}" is not a cron expression: ${(error as Error).message}`);
  }
}

export function validateWindow(value: unknown): MaintenanceWindow {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SluiceError('invalid_window', 'a window is an object');
  const window = value as Record<string, unknown>;
  if (window.asap === true && Object.keys(window).length === 1) return { asap: true };
  if (typeof window.timezone !== 'string' || !IANAZone.isValidZone(window.timezone)) {
    throw new SluiceError('invalid_timezone', `"${String(window.timezone)}" is not an IANA time zone`);
  }
  if (typeof window.start === 'string' && typeof window.end === 'string' && window.cron === undefined) {
    const oneOff = { start: window.start, end: window.end, timezone: window.timezone };
    const start = resolveLocal(parseLocal(oneOff.start, 'start'), oneOff.timezone);
    const end = resolveLocal(parseLocal(oneOff.end, 'end'), oneOff.timezone);
    if (end <= start) throw new SluiceError('invalid_window', `the window ends (${oneOff.end}) before or when it starts (${oneOff.start})`);
    if (end.getTime() - start.getTime() > maximumDuration) throw new SluiceError('invalid_window', 'a window lasts at most 7 days');
    return oneOff;
  }
  if (typeof window.cron === 'string' && typeof window.duration === 'string' && window.start === undefined) {
    validateCron(window.cron);
    durationMillis(window.duration);
    return { cron: window.cron, duration: window.duration, timezone: window.timezone };
  }
  throw new SluiceError('invalid_window', 'a window is {start, end, timezone}, {cron, duration, timezone} or {asap: true}');
}

/** Occurrences whose start is at or after `from`, in order, at most `limit`. */
function* occurrencesFrom(window: MaintenanceWindow, from: Date, limit: number): Generator<Occurrence> {
  if (isAsap(window)) {
    yield { start: from, end: new Date(from.getTime() + asapSpan) };
    return;
  }
  if (isOneOff(window)) {
    const start = resolveLocal(parseLocal(window.start, 'start'), window.timezone);
    if (start >= from) yield { start, end: resolveLocal(parseLocal(window.end, 'end'), window.timezone) };
    return;
  }
  const length = durationMillis(window.duration);
  // Start the wall-clock expansion a little early: offsets move wall time by up to a day.
  const iterator = parseCron(window.cron)(naiveOf(from.getTime(), window.timezone) - day - 1);
  let produced = 0;
  let previous = -Infinity;
  for (let step = 0; step < limit * 4 + 64 && produced < limit; step++) {
    const naive = iterator.next().getTime();
    const start = resolveLocal(naive, window.timezone);
    // Two wall times inside one gap resolve to the same instant: keep one occurrence.
    if (start.getTime() === previous || start < from) continue;
    previous = start.getTime();
    produced++;
    yield { start, end: new Date(start.getTime() + length) };
  }
}

export function nextOccurrence(window: MaintenanceWindow, after: Date): Occurrence | null {
  for (const occurrence of occurrencesFrom(window, after, 1)) return occurrence;
  return null;
}

/** The occurrence that contains `instant` (start ≤ instant < end), if any. */
export function occurrenceCovering(window: MaintenanceWindow, instant: Date): Occurrence | null {
  if (isAsap(window)) return { start: instant, end: new Date(instant.getTime() + asapSpan) };
  const lookBack = isOneOff(window) ? new Date(0) : new Date(instant.getTime() - durationMillis(window.duration));
  let covering: Occurrence | null = null;
  for (const occurrence of occurrencesFrom(window, lookBack, 64)) {
    if (occurrence.start > instant) break;
    if (occurrence.end > instant) covering = occurrence;
  }
  return covering;
}

export function currentOrNextOccurrence(window: MaintenanceWindow, instant: Date): Occurrence | null {
  return occurrenceCovering(window, instant) ?? nextOccurrence(window, instant);
}

export function occurrencesBetween(window: MaintenanceWindow, from: Date, to: Date, limit = 100): Occurrence[] {
  const result: Occurrence[] = [];
  for (const occurrence of occurrencesFrom(window, from, limit)) {
    if (occurrence.start >= to) break;
    result.push(occurrence);
  }
  return result;
}

/**
 * DESIGN.md: the agent installs only when now is inside the occurrence and the install's
 * expected duration still fits before its end.
 */
export function installAllowed(window: MaintenanceWindow, instant: Date, expectedSeconds: number): boolean {
  const occurrence = occurrenceCovering(window, instant);
  return occurrence !== null && instant.getTime() + expectedSeconds * 1000 <= occurrence.end.getTime();
}

/** The first occurrence in which an install of `expectedSeconds` can run, and when. */
export function earliestInstallSlot(windows: MaintenanceWindow[], instant: Date, expectedSeconds: number): { occurrence: Occurrence; installAt: Date } | null {
  let best: { occurrence: Occurrence; installAt: Date } | null = null;
  for (const window of windows) {
    const candidates = [occurrenceCovering(window, instant), ...occurrencesFrom(window, instant, 8)].filter((item): item is Occurrence => item !== null);
    for (const occurrence of candidates) {
      const installAt = occurrence.start > instant ? occurrence.start : instant;
      if (installAt.getTime() + expectedSeconds * 1000 > occurrence.end.getTime()) continue;
      if (!best || installAt < best.installAt) best = { occurrence, installAt };
      break;
    }
  }
  return best;
}

/** Human text in the customer's local time with the zone named (the written plan, the portal). */
export function describeWindow(window: MaintenanceWindow): string {
  if (isAsap(window)) return 'As soon as the customer consents (emergency fix)';
  if (isOneOff(window)) {
    const start = DateTime.fromMillis(resolveLocal(parseLocal(window.start, 'start'), window.timezone).getTime(), { zone: window.timezone });
    const end = DateTime.fromMillis(resolveLocal(parseLocal(window.end, 'end'), window.timezone).getTime(), { zone: window.timezone });
    const sameDay = start.hasSame(end, 'day');
    return `${start.toFormat('cccc d LLLL yyyy, HH:mm')} to ${sameDay ? end.toFormat('HH:mm') : end.toFormat('cccc d LLLL yyyy, HH:mm')} (${window.timezone})`;
  }
  const every = cronstrue.toString(window.cron, { use24HourTimeFormat: true, verbose: false });
  const length = Duration.fromISO(window.duration).shiftTo('hours', 'minutes').toHuman({ unitDisplay: 'long' }).replace(/, 0 minutes$/, '').replace(/^0 hours, /, '');
  return `${every}, for ${length} (${window.timezone})`;
}
