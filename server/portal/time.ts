// Times as people read them: local wall time in a named zone, the offset added only where a
// fall-back night shows that wall time twice, and "due in" / "overdue by" against now.
import { DateTime } from 'luxon';

/** "Sun 6 Dec 2026, 02:00", with " (UTC+02:00)" when that local time is ambiguous. */
export function localTime(time: Date | string | null | undefined, zone: string): string {
  if (!time) return '';
  const instant = time instanceof Date ? DateTime.fromJSDate(time, { zone }) : DateTime.fromISO(time, { zone });
  if (!instant.isValid) return String(time);
  const text = instant.toFormat('ccc d LLL yyyy, HH:mm');
  return instant.getPossibleOffsets().length > 1 ? `${text} (UTC${instant.toFormat('ZZ')})` : text;
}

/** The same with the zone named: "Sun 6 Dec 2026, 02:00 Europe/Madrid". */
export function zonedTime(time: Date | string | null | undefined, zone: string): string {
  const text = localTime(time, zone);
  return text ? `${text} ${zone}` : '';
}

/** A local 'YYYY-MM-DDTHH:mm' for a datetime-local input. */
export function inputTime(time: Date, zone: string): string {
  return DateTime.fromJSDate(time, { zone }).toFormat("yyyy-LL-dd'T'HH:mm");
}

/** "3 h 5 min", "12 min", "2 d 4 h": a span for people, rounded up to the minute. */
export function span(milliseconds: number): string {
  const minutes = Math.max(0, Math.ceil(milliseconds / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days) return hours ? `${days} d ${hours} h` : `${days} d`;
  if (hours) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return `${rest} min`;
}

/** "due in 12 min" or "overdue by 3 min" (overdue: true), against `now`. */
export function dueText(due: Date | string, now: Date): { text: string; overdue: boolean } {
  const left = new Date(due).getTime() - now.getTime();
  return left >= 0 ? { text: `due in ${span(left)}`, overdue: false } : { text: `overdue by ${span(-left)}`, overdue: true };
}
