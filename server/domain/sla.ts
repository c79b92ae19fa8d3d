// The SLA report (issue: service desk): per class, how many faults, how fast they were
// acknowledged and resolved (median and 95th percentile), and what met its clock.
// Times are counted as the clocks count them (fault-clock.ts): service hours for C and D,
// pauses while waiting on the customer left out.
import { faultClasses, type FaultClass } from './faults.js';
import { defaultClockSetting, faultClocks, type ClockSetting, type FaultClockInput } from './fault-clock.js';

export interface FaultRecord extends FaultClockInput {
  id: string;
  /** The fault's customer's terms, when they differ from the report's setting. */
  setting?: ClockSetting;
}

/** Nearest-rank percentile: the smallest value with at least p% of the data at or below it. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

const seconds = (milliseconds: number) => Math.round(milliseconds / 1000);

export function slaReport(faults: FaultRecord[], from: Date, to: Date, now: Date, setting: ClockSetting = defaultClockSetting) {
  const inPeriod = faults.filter((fault) => fault.reportedAt >= from && fault.reportedAt < to);
  const classes = {} as Record<FaultClass, unknown>;
  for (const faultClass of faultClasses) {
    const mine = inPeriod.filter((fault) => fault.class === faultClass);
    const clocks = mine.map((fault) => ({ fault, clocks: faultClocks(fault, now, fault.setting ?? setting) }));
    const toAcknowledge = clocks.filter(({ fault }) => fault.acknowledgedAt).map(({ clocks }) => seconds(clocks.acknowledge.countedMs));
    // Resolution is counted on the resolve clock where there is one, else as the acknowledge clock counts.
    const toResolve = clocks
      .filter(({ fault }) => fault.resolvedAt)
      .map(({ fault, clocks }) =>
        seconds(
          clocks.resolve?.countedMs ??
            faultClocks({ ...fault, acknowledgedAt: fault.resolvedAt }, now, fault.setting ?? setting).acknowledge.countedMs,
        ),
      );
    const verdicts = clocks.map(({ fault, clocks }) => ({
      fault,
      breach: { acknowledge: clocks.acknowledge.breached, resolve: clocks.resolve?.breached ?? false },
      due: { acknowledgeBy: clocks.acknowledge.dueAt, resolveBy: clocks.resolve?.dueAt ?? null },
    }));
    // A clock is decided once its step happened or its due time passed.
    const acknowledgeDecided = verdicts.filter(({ fault, due }) => fault.acknowledgedAt || fault.resolvedAt || due.acknowledgeBy <= now);
    const resolveDecided = verdicts.filter(({ fault, due }) => due.resolveBy && (fault.resolvedAt || due.resolveBy <= now));
    const share = (decided: typeof verdicts, key: 'acknowledge' | 'resolve') =>
      decided.length === 0 ? null : decided.filter((verdict) => !verdict.breach[key]).length / decided.length;
    classes[faultClass] = {
      count: mine.length,
      acknowledge: {
        medianSeconds: percentile(toAcknowledge, 50),
        p95Seconds: percentile(toAcknowledge, 95),
        metShare: share(acknowledgeDecided, 'acknowledge'),
      },
      resolve: {
        medianSeconds: percentile(toResolve, 50),
        p95Seconds: percentile(toResolve, 95),
        metShare: share(resolveDecided, 'resolve'),
      },
      breaches: verdicts
        .filter(({ breach }) => breach.acknowledge || breach.resolve)
        .map(({ fault, breach }) => ({ id: fault.id, acknowledge: breach.acknowledge, resolve: breach.resolve })),
    };
  }
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    generatedAt: now.toISOString(),
    serviceHoursClasses: faultClasses.filter((name) => !setting.aroundTheClock.includes(name)),
    classes,
  };
}
