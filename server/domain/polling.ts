// How long a device waits before its next poll (DESIGN.md, "Device agent": polling uses the
// server's pollAfterSeconds). One rule for sluice's check-in and the DDI controller base:
// poll sooner when the window of an assigned install is about to open, so that the install
// starts near the window's beginning instead of up to one poll interval late. Pure.

export interface PollInput {
  /** The configured interval. */
  baseSeconds: number;
  /** The occurrence the device's assignment installs in, if any (a Date or ISO text). */
  window?: { start: Date | string } | null;
  /** The device may install now: no reason to hurry its next poll. */
  installAllowed?: boolean;
  now: Date;
}

export function pollAfterSeconds(input: PollInput): number {
  const { baseSeconds, window, installAllowed, now } = input;
  if (!window || installAllowed) return baseSeconds;
  const start = window.start instanceof Date ? window.start : new Date(window.start);
  const untilStart = Math.ceil((start.getTime() - now.getTime()) / 1000);
  // A window already open (or a start that cannot be read) keeps the usual interval.
  if (!(untilStart > 0)) return baseSeconds;
  return Math.max(1, Math.min(baseSeconds, untilStart));
}
