// The windows editor: a fixed number of one-off rows and recurring rows, in the customer's
// zone, that work as a plain form (no JavaScript). Recurring rows are days of the week, a
// start time and a length, or a raw cron expression for anything else. The windows built
// here are checked by the domain (validateWindow, validatePlanWindows); nothing is re-derived.
import { Duration } from 'luxon';
import { html, type Html } from '../html.js';
import { formList, typed, type FormState } from '../kit.js';
import { isOneOff, isRecurring, type MaintenanceWindow } from '../../domain/windows.js';

const oneOffRows = 3;
const recurringRows = 2;
const dayNames = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** Cron day-of-week numbers for dayNames (Sunday is 0). */
const cronDays = [1, 2, 3, 4, 5, 6, 0];

/** The form values that show `windows` in the editor. */
export function windowValues(windows: MaintenanceWindow[]): Record<string, string> {
  const values: Record<string, string> = {};
  windows
    .filter(isOneOff)
    .slice(0, oneOffRows)
    .forEach((window, index) => {
      values[`once_start_${index}`] = window.start;
      values[`once_end_${index}`] = window.end;
    });
  windows
    .filter(isRecurring)
    .slice(0, recurringRows)
    .forEach((window, index) => {
      const hours = Duration.fromISO(window.duration).as('hours');
      values[`every_hours_${index}`] = String(Math.round(hours * 100) / 100);
      const [minute, hour, dayOfMonth, month, dayOfWeek] = window.cron.trim().split(/\s+/);
      const days = dayOfWeek.split(',');
      if (/^\d+$/.test(minute) && /^\d+$/.test(hour) && dayOfMonth === '*' && month === '*' && days.every((day) => /^[0-7]$/.test(day))) {
        values[`every_time_${index}`] = `${hour.padStart(2, '0')}:${minute.padStart(2, '0')}`;
        values[`every_days_${index}`] = days.map((day) => String(Number(day) % 7)).join('\n');
      } else {
        values[`every_cron_${index}`] = window.cron;
      }
    });
  return values;
}

/** The windows a submitted editor describes, in `zone`; each row left empty is skipped. */
export function windowsFromForm(body: unknown, values: Record<string, string>, zone: string): MaintenanceWindow[] {
  const windows: MaintenanceWindow[] = [];
  for (let index = 0; index < oneOffRows; index++) {
    const start = values[`once_start_${index}`]?.slice(0, 16) ?? '';
    const end = values[`once_end_${index}`]?.slice(0, 16) ?? '';
    if (start || end) windows.push({ start, end, timezone: zone });
  }
  for (let index = 0; index < recurringRows; index++) {
    const cron = (values[`every_cron_${index}`] ?? '').trim().slice(0, 120);
    const time = values[`every_time_${index}`] ?? '';
    const days = formList(body, `every_days_${index}`).filter((day) => /^[0-6]$/.test(day));
    const hours = Number(values[`every_hours_${index}`] || 0);
    if (!cron && !time && days.length === 0) continue;
    const duration = `PT${Math.round(hours * 60)}M`;
    if (cron) {
      windows.push({ cron, duration, timezone: zone });
      continue;
    }
    const [hour, minute] = (time || 'x').split(':');
    const dayField = days.length === 0 || days.length === 7 ? '*' : days.join(',');
    windows.push({ cron: `${Number(minute)} ${Number(hour)} * * ${dayField}`, duration, timezone: zone });
  }
  return windows;
}

export function windowsEditor(state: FormState | null, form: string, zone: string): Html {
  const value = (name: string) => typed(state, form, name);
  const once = Array.from(
    { length: oneOffRows },
    (_, index) =>
      html`<fieldset>
        <legend>One-off window ${index + 1}</legend>
        <div class="inline">
          <div>
            <label for="once-start-${index}">Start (${zone})</label
            ><input id="once-start-${index}" name="once_start_${index}" type="datetime-local" value="${value(`once_start_${index}`)}" />
          </div>
          <div>
            <label for="once-end-${index}">End (${zone})</label
            ><input id="once-end-${index}" name="once_end_${index}" type="datetime-local" value="${value(`once_end_${index}`)}" />
          </div>
        </div>
      </fieldset>`,
  );
  const every = Array.from({ length: recurringRows }, (_, index) => {
    const checked = new Set(value(`every_days_${index}`).split('\n'));
    return html`<fieldset>
      <legend>Recurring window ${index + 1}</legend>
      <div class="inline" role="group" aria-label="Days of the week">
        ${dayNames.map((name, day) => html`<label class="choice"><input type="checkbox" name="every_days_${index}" value="${cronDays[day]}" ${checked.has(String(cronDays[day])) ? html` checked` : ''} /> ${name}</label>`)}
      </div>
      <div class="inline">
        <div>
          <label for="every-time-${index}">Starts at (${zone})</label
          ><input id="every-time-${index}" name="every_time_${index}" type="time" value="${value(`every_time_${index}`)}" />
        </div>
        <div>
          <label for="every-hours-${index}">Lasts (hours)</label
          ><input
            id="every-hours-${index}"
            name="every_hours_${index}"
            type="number"
            min="0.25"
            max="168"
            step="0.25"
            value="${value(`every_hours_${index}`) || '3'}"
          />
        </div>
        <div>
          <label for="every-cron-${index}">Or a cron expression</label
          ><input id="every-cron-${index}" name="every_cron_${index}" placeholder="0 2 * * 0" value="${value(`every_cron_${index}`)}" />
        </div>
      </div>
    </fieldset>`;
  });
  return html`<p class="legend">Fill the rows you need; empty rows are ignored. Times are the customer's local time in ${zone}.</p>
    ${once}${every}`;
}
