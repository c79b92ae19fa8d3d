// The fault clocks' one rule (DESIGN.md, "Notifications and service hours"): a clock counts
// from the report; classes A and B count around the clock, C and D only within the vendor's
// service hours; no clock counts while the vendor waits on the customer (a pause). A clock is
// due when it has counted its contractual length, and warns when it has counted a share of it.
// An open pause (still waiting) is taken to end at `now`: the due time then moves on while
// the wait lasts, and the clock cannot breach during it.
import { acknowledgeWithin, faultClasses, resolveWithin, type FaultClass, type FaultClock, type FaultSeverity } from './faults.js';
import { defaultServiceHours, spansFrom, subtractServiceTime, type ServiceHours, type Span } from './service-hours.js';

export interface Pause {
  start: Date;
  end: Date | null;
}

export interface ClockSetting {
  serviceHours: ServiceHours;
  /** Classes whose clocks run 24×7; the others count service hours only. */
  aroundTheClock: readonly FaultClass[];
  /** Share of a clock after which fault.clock_warning is sent (0 < share < 1). */
  warningShare: number;
  /** Per class, milliseconds processing may take to start (a customer's contract terms); default: the seed's table. */
  acknowledgeWithin?: Readonly<Record<FaultClass, number>>;
}

export const defaultClockSetting: ClockSetting = Object.freeze({
  serviceHours: defaultServiceHours,
  aroundTheClock: ['A', 'B'] as FaultClass[],
  warningShare: 0.8,
});

export interface FaultClockInput extends FaultClock {
  pauses?: readonly Pause[];
}

const never = new Date(8.64e15);

/** Whether the class's clocks count service hours only. */
export const countsServiceHours = (faultClass: FaultClass, setting: ClockSetting = defaultClockSetting) =>
  !setting.aroundTheClock.includes(faultClass);

/** A question staff asked on a fault waits on the customer from the asking until the answer. */
export const questionPauses = (questions: readonly { askedAt: Date; answeredAt: Date | null }[]): Pause[] =>
  questions.map((question) => ({ start: question.askedAt, end: question.answeredAt }));

/** The class's acknowledge clock length under the setting's terms. */
export const acknowledgeLength = (faultClass: FaultClass, setting: ClockSetting = defaultClockSetting) =>
  (setting.acknowledgeWithin ?? acknowledgeWithin)[faultClass];

/** Pauses with open ends closed at `now`, merged and ordered. */
function settledPauses(pauses: readonly Pause[], now: Date): Span[] {
  const spans = pauses
    .map((pause) => ({ start: pause.start, end: pause.end ?? (now > pause.start ? now : pause.start) }))
    .filter((span) => span.end > span.start)
    .sort((a, b) => a.start.getTime() - b.start.getTime());
  const merged: Span[] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && span.start <= last.end) last.end = span.end > last.end ? span.end : last.end;
    else merged.push({ ...span });
  }
  return merged;
}

/** The spans in which a fault's clocks count, from `from` on: open hours (or all time) less the pauses. */
function* countingSpans(fault: FaultClockInput, setting: ClockSetting, now: Date, from: Date): Generator<Span> {
  const pauses = settledPauses(fault.pauses ?? [], now);
  const base = countsServiceHours(fault.class, setting) ? spansFrom(setting.serviceHours, from) : [{ start: from, end: never }];
  for (const span of base) {
    let start = span.start;
    for (const pause of pauses) {
      if (pause.end <= start || pause.start >= span.end) continue;
      if (pause.start > start) yield { start, end: pause.start };
      start = pause.end > start ? pause.end : start;
    }
    if (span.end > start) yield { start, end: span.end };
  }
}

/** The instant at which the fault's clock has counted `milliseconds` since the report. */
function countedUntil(fault: FaultClockInput, setting: ClockSetting, now: Date, milliseconds: number): Date {
  let left = milliseconds;
  for (const span of countingSpans(fault, setting, now, fault.reportedAt)) {
    const length = span.end.getTime() - span.start.getTime();
    if (length >= left) return new Date(span.start.getTime() + left);
    left -= length;
  }
  return never;
}

/** Milliseconds the fault's clock counted from the report to `until`. */
function countedBetween(fault: FaultClockInput, setting: ClockSetting, now: Date, until: Date): number {
  let total = 0;
  for (const span of countingSpans(fault, setting, now, fault.reportedAt)) {
    if (span.start >= until) break;
    total += Math.min(span.end.getTime(), until.getTime()) - span.start.getTime();
  }
  return total;
}

export interface ClockState {
  /** The contract's length of this clock, in counted milliseconds. */
  withinMs: number;
  dueAt: Date;
  warnAt: Date;
  /** When the step was taken, if it was. */
  doneAt: Date | null;
  /** Counted milliseconds from the report to the step (or to now, when not taken). */
  countedMs: number;
  breached: boolean;
}

export interface FaultClocks {
  serviceHours: boolean;
  /** Waiting on the customer right now: the clocks stand still. */
  paused: boolean;
  /** Wall-clock milliseconds spent waiting on the customer, from the report until resolution (or now). */
  pausedMs: number;
  acknowledge: ClockState;
  resolve: ClockState | null;
}

function clockState(
  fault: FaultClockInput,
  setting: ClockSetting,
  now: Date,
  withinMs: number,
  doneAt: Date | null,
  breached: (dueAt: Date) => boolean,
): ClockState {
  const dueAt = countedUntil(fault, setting, now, withinMs);
  return {
    withinMs,
    dueAt,
    doneAt,
    breached: breached(dueAt),
    warnAt: countedUntil(fault, setting, now, Math.round(withinMs * setting.warningShare)),
    countedMs: countedBetween(fault, setting, now, doneAt ?? now),
  };
}

/** Every clock of a fault at `now`. */
export function faultClocks(fault: FaultClockInput, now: Date, setting: ClockSetting = defaultClockSetting): FaultClocks {
  const acknowledged = fault.acknowledgedAt ?? null;
  const resolved = fault.resolvedAt ?? null;
  const resolveMs = resolveWithin[fault.class]?.[fault.severity] ?? null;
  const settledAt = resolved ?? now;
  const pauses = settledPauses(fault.pauses ?? [], now);
  const pausedMs = pauses.reduce((sum, pause) => {
    const start = Math.max(pause.start.getTime(), fault.reportedAt.getTime());
    const end = Math.min(pause.end.getTime(), settledAt.getTime());
    return sum + Math.max(0, end - start);
  }, 0);
  return {
    serviceHours: countsServiceHours(fault.class, setting),
    paused: resolved === null && (fault.pauses ?? []).some((pause) => pause.start <= now && (pause.end === null || pause.end > now)),
    pausedMs,
    // A fault resolved before its acknowledge clock ran out never needed the acknowledgement.
    acknowledge: clockState(
      fault,
      setting,
      now,
      acknowledgeLength(fault.class, setting),
      acknowledged,
      (dueAt) => (acknowledged ?? now) > dueAt && !(acknowledged === null && resolved !== null && resolved <= dueAt),
    ),
    resolve: resolveMs === null ? null : clockState(fault, setting, now, resolveMs, resolved, (dueAt) => (resolved ?? now) > dueAt),
  };
}

/** When processing must start and, for A and B, when the fault must be resolved. */
export function dueTimes(
  fault: FaultClockInput,
  setting: ClockSetting = defaultClockSetting,
  now: Date = fault.reportedAt,
): { acknowledgeBy: Date; resolveBy: Date | null } {
  const clocks = faultClocks(fault, now, setting);
  return { acknowledgeBy: clocks.acknowledge.dueAt, resolveBy: clocks.resolve?.dueAt ?? null };
}

/** Past a due time without the step done is a breach; a step done late is one too. */
export function breaches(
  fault: FaultClockInput,
  now: Date,
  setting: ClockSetting = defaultClockSetting,
): { acknowledge: boolean; resolve: boolean } {
  const clocks = faultClocks(fault, now, setting);
  return { acknowledge: clocks.acknowledge.breached, resolve: clocks.resolve?.breached ?? false };
}

/** Faults of one class and severity reported before `reportedBefore` are late on a clock. */
export interface LateCutoff {
  class: FaultClass;
  severity: FaultSeverity;
  reportedBefore: Date;
}

/**
 * Per class and severity, the report time before which a fault whose step is still not taken
 * has broken that clock at `now`: what `breaches` decides for such a fault (pauses aside),
 * turned into a bound a count over stored rows can use. It inverts `countedUntil`.
 */
export function lateCutoffs(now: Date, setting: ClockSetting = defaultClockSetting): { acknowledge: LateCutoff[]; resolve: LateCutoff[] } {
  const cutoff = (faultClass: FaultClass, severity: FaultSeverity, within: number): LateCutoff => {
    if (!countsServiceHours(faultClass, setting)) return { class: faultClass, severity, reportedBefore: new Date(now.getTime() - within) };
    // due(r) only grows with r, and stands still across closed hours: the cutoff is the
    // first report time whose clock runs out at or after now, found by bisection.
    const due = (reportedAt: number) =>
      countedUntil({ class: faultClass, severity, reportedAt: new Date(reportedAt) }, setting, now, within).getTime();
    // A report with a millisecond more than the clock's length before now ran out just before it.
    let low = subtractServiceTime(setting.serviceHours, now, within + 1).getTime();
    let high = now.getTime();
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (due(middle) >= now.getTime()) high = middle;
      else low = middle;
    }
    return { class: faultClass, severity, reportedBefore: new Date(high) };
  };
  const acknowledge: LateCutoff[] = [];
  const resolve: LateCutoff[] = [];
  for (const faultClass of faultClasses) {
    for (const severity of ['major', 'general'] as const) {
      acknowledge.push(cutoff(faultClass, severity, acknowledgeLength(faultClass, setting)));
      const within = resolveWithin[faultClass]?.[severity];
      if (within !== undefined) resolve.push(cutoff(faultClass, severity, within));
    }
  }
  return { acknowledge, resolve };
}
