// A refused window explained in the customer's local time (issue 18: "errors say what to fix
// in local time"). The rule stays the domain's (validateWindow, validatePlanWindows); only
// its message is rewritten from the refusal's code and details with times in `zone`.
import { SluiceError } from '../errors.js';
import { nextOccurrence, type MaintenanceWindow } from '../domain/windows.js';
import { zonedTime } from './time.js';

export function windowErrorText(
  error: unknown,
  context: { zone: string; deadline: Date; now: Date; windows?: MaintenanceWindow[] },
): string | null {
  if (!(error instanceof SluiceError)) return null;
  const { zone, deadline, now } = context;
  const message = error.message;
  switch (error.code) {
    case 'no_window_before_deadline': {
      const index = Number(error.details?.window ?? 0);
      const window = context.windows?.[index];
      const next = window ? nextOccurrence(window, now) : null;
      const which = (context.windows?.length ?? 1) > 1 ? `Window ${index + 1}` : 'That window';
      if (next && next.start >= deadline)
        return `${which} starts ${zonedTime(next.start, zone)}, after the deadline (${zonedTime(deadline, zone)}). Choose a time before the deadline.`;
      return `${which} is already over (it is now ${zonedTime(now, zone)}). Choose a time between now and the deadline, ${zonedTime(deadline, zone)}.`;
    }
    case 'invalid_window':
      if (/must end after it starts/.test(message)) return `The end must be after the start (both in ${zone}).`;
      if (/lasts at most 7 days/.test(message)) return 'A window lasts at most 7 days: choose an end closer to the start.';
      if (/must be a local time like|is not a real date/.test(message))
        return `Enter both a start and an end, as a date and a time in ${zone}.`;
      return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
    case 'validation_failed':
      if (/deadline/.test(message)) return `The deadline, ${zonedTime(deadline, zone)}, has passed: ask the vendor for a new plan.`;
      return null;
    default:
      return null;
  }
}
