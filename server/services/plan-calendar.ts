// A confirmed plan's iCalendar file (DESIGN.md: "A confirmed plan offers an iCalendar file";
// RFC 5545). One event per plan, whose UID stays the plan's: the confirmed window, with every
// occurrence of a recurring one (RRULE until the deadline), the plan's status (a cancelled
// plan's event is CANCELLED), and a SEQUENCE that every change of the plan raises. SEQUENCE
// is counted from the plan's audited lifecycle steps, so every server process serving the
// file gives the same number, and a calendar that imported it before sees each change as newer.
import icalGenerator, { ICalEventStatus } from 'ical-generator';
import { getVtimezoneComponent } from '@touch4it/ical-timezones';
import { DateTime, Duration } from 'luxon';
import type { Store } from '../storage/store.js';
import type { Plan } from '../storage/repositories/records.js';
import { planEvents } from '../domain/plans.js';
import {
  anchorAsap,
  currentOrNextOccurrence,
  describeWindow,
  isRecurring,
  occurrencesBetween,
  type Occurrence,
  type RecurringWindow,
} from '../domain/windows.js';
import { cronRecurrence, gapCorrections } from '../domain/recurrence.js';

/** Occurrences listed one by one when a cron has no RRULE form (or the zone no VTIMEZONE). */
export const listedOccurrencesLimit = 200;

const lifecycleActions = planEvents.map((event) => `plan.${event}`);

/** The event's SEQUENCE: how many lifecycle steps the plan has taken (each one audited once). */
export async function calendarSequence(store: Store, plan: Plan): Promise<number> {
  return store.audit.countActions(`plan:${plan.id}`, lifecycleActions);
}

/** The plan's page in the customer portal, on the server's public origin. */
export function planPageUrl(origin: string, plan: Pick<Plan, 'id'>): string {
  return `${origin.replace(/\/+$/, '')}/portal/plans/${encodeURIComponent(plan.id)}`;
}

const utcStamp = (instant: Date) =>
  instant
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

function statusOf(plan: Plan): ICalEventStatus {
  if (plan.status === 'cancelled') return ICalEventStatus.CANCELLED;
  // Nothing installs while a plan is paused: the window may or may not be used.
  if (plan.status === 'paused') return ICalEventStatus.TENTATIVE;
  return ICalEventStatus.CONFIRMED;
}

interface Timing {
  start: Date;
  end: Date;
  timezone: string | null;
  repeating: string | null;
}

/**
 * A recurring window from its first occurrence: an RRULE in the window's zone (with the DST
 * gap corrections of domain/recurrence.ts), or, for a cron without an RRULE form or a zone
 * without a VTIMEZONE, the occurrences themselves as RDATEs in UTC.
 */
function recurringTiming(window: RecurringWindow, from: Date, until: Date): Timing | null {
  const length = Duration.fromISO(window.duration).as('milliseconds');
  const recurrence = cronRecurrence(window.cron);
  if (recurrence.rule !== null && getVtimezoneComponent(window.timezone)) {
    const corrections = gapCorrections(window, from, until);
    const moved = new Set(corrections.add.map((instant) => instant.getTime()));
    // DTSTART must be an instance of the rule itself (RFC 5545 3.8.5.3): not a moved start.
    const first = occurrencesBetween(window, from, until, moved.size + 1).find((occurrence) => !moved.has(occurrence.start.getTime()));
    if (first) {
      const lines = [`RRULE:${recurrence.rule};UNTIL=${utcStamp(until)}`];
      if (corrections.exclude.length) lines.push(`EXDATE;TZID=${window.timezone}:${corrections.exclude.join(',')}`);
      for (const instant of corrections.add) lines.push(`RDATE:${utcStamp(instant)}`);
      return { start: first.start, end: new Date(first.start.getTime() + length), timezone: window.timezone, repeating: lines.join('\n') };
    }
  }
  const occurrences = occurrencesBetween(window, from, until, listedOccurrencesLimit);
  if (occurrences.length === 0) return null;
  const [first] = occurrences;
  // The first is DTSTART and listed as well: the set counts it once (RFC 5545 3.8.5.2), and
  // a client that takes the set from RDATE alone (ical.js does) still shows it.
  const listed = occurrences.length > 1 ? occurrences.map((occurrence) => `RDATE:${utcStamp(occurrence.start)}`).join('\n') : null;
  return { start: first.start, end: new Date(first.start.getTime() + length), timezone: null, repeating: listed };
}

/** When the confirmed window happens, from the confirmation to the deadline (or to the completion). */
function timingOf(plan: Plan): Timing | null {
  const window = plan.windows[plan.confirmedWindow ?? 0];
  if (!window) return null;
  const since = plan.confirmedAt ?? plan.createdAt;
  // A completed rollout needs no more windows; otherwise they stand until the deadline.
  const until = plan.status === 'completed' ? plan.updatedAt : plan.deadline;
  if (isRecurring(window)) {
    const covering = currentOrNextOccurrence(window, since);
    return covering ? recurringTiming(window, covering.start, until) : null;
  }
  const occurrence: Occurrence | null = currentOrNextOccurrence(anchorAsap(window, since), since);
  if (!occurrence) return null;
  // An emergency window stays open for a year; in a calendar it ends with the plan's deadline.
  const end = occurrence.end > until && occurrence.start < until ? until : occurrence.end;
  return { start: occurrence.start, end, timezone: null, repeating: null };
}

export interface CalendarInput {
  plan: Plan;
  customerName: string;
  sequence: number;
  url: string;
}

/** The iCalendar text: one VEVENT (none if the window has no occurrence), CRLF line ends throughout. */
export function renderCalendar({ plan, customerName, sequence, url }: CalendarInput): string {
  const calendar = icalGenerator({ name: `sluice plan ${plan.id}`, prodId: { company: 'sluice', product: 'plans' } });
  const timing = timingOf(plan);
  if (timing) {
    const window = plan.windows[plan.confirmedWindow ?? 0];
    const maintainer: { name?: string; phone?: string } = plan.maintainer ?? {};
    const cancelled = plan.status === 'cancelled' ? 'Cancelled: this maintenance will not take place. ' : '';
    calendar.createEvent({
      id: `${plan.id}@sluice`,
      sequence,
      // Luxon values: ical-generator writes a Date's wall time in the process's own zone.
      start: DateTime.fromJSDate(timing.start, { zone: timing.timezone ?? 'utc' }),
      end: DateTime.fromJSDate(timing.end, { zone: timing.timezone ?? 'utc' }),
      ...(timing.timezone ? { timezone: timing.timezone } : {}),
      ...(timing.repeating ? { repeating: timing.repeating } : {}),
      // The last revision of the plan: the same file for everyone until the plan changes.
      stamp: plan.updatedAt,
      lastModified: plan.updatedAt,
      status: statusOf(plan),
      url,
      summary: `${plan.kind === 'commissioning' ? 'Commissioning' : 'Software upgrade'} for ${customerName}`,
      description: `${cancelled}Plan ${plan.id}. ${describeWindow(window)}. Maintenance staff: ${maintainer.name ?? ''} (${maintainer.phone ?? ''}). ${url}`,
    });
  }
  let text = calendar.toString();
  if (timing?.timezone) {
    // The zone's definition, which TZID refers to. Not through ical-generator's calendar
    // timezone: that also writes DTSTAMP and LAST-MODIFIED in local time, which must be UTC.
    const zone = getVtimezoneComponent(timing.timezone)!.trim().split(/\r?\n/).join('\r\n');
    text = text.replace(/BEGIN:VEVENT\r\n/, `${zone}\r\n$&`);
  }
  // RFC 5545 3.1: every content line, the last one included, ends with CRLF.
  return text.endsWith('\r\n') ? text : `${text}\r\n`;
}

/** The calendar as served: the plan's customer, its SEQUENCE and its page read from `store`. */
export async function planCalendar(store: Store, plan: Plan, origin: string): Promise<string> {
  const customer = await store.customers.get(plan.customer);
  return renderCalendar({
    plan,
    customerName: customer?.name ?? plan.customer,
    sequence: await calendarSequence(store, plan),
    url: planPageUrl(origin, plan),
  });
}
