// The two aggregate reads GET /metrics makes at scrape time agree with the domain on both
// stores: unresolvedSummary counts the unresolved faults by class and status, and its late
// counts are exactly the faults that `breaches` (domain/faults.ts) calls breached with the
// step still not taken, over every class, severity and age around the clocks' limits;
// countByStatus counts plans by kind and status.
import t from 'tap';
import { forEachStore } from '../helpers/database.js';
import { breaches, faultClasses, lateCutoffs, type FaultStatus } from '../../server/domain/faults.js';
import { draftPlan } from '../../server/services/plans.js';
import type { Fault } from '../../server/storage/repositories/records.js';

const now = new Date('2026-12-01T10:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
// Each side of every limit: 15, 30, 45, 60, 120 minutes.
const ages = [10, 16, 29, 31, 44, 46, 59, 61, 119, 121];
const histories: { status: FaultStatus; steps: ('acknowledge' | 'fix_available' | 'resolve' | 'close')[] }[] = [
  { status: 'open', steps: [] },
  { status: 'acknowledged', steps: ['acknowledge'] },
  { status: 'fix_available', steps: ['fix_available'] },
  { status: 'resolved', steps: ['resolve'] },
  { status: 'closed', steps: ['resolve', 'close'] },
];

forEachStore(t, 'unresolved faults by class and status, and the late ones, as the domain counts them', async (t, store) => {
  await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'UTC' }, now);
  const stored: Fault[] = [];
  for (const faultClass of faultClasses) {
    for (const severity of ['major', 'general'] as const) {
      for (const age of ages) {
        for (const { status, steps } of histories) {
          const reportedAt = minutesAgo(age);
          const fault = (await store.faults.insert({
            customer: 'acme',
            device: null,
            plan: null,
            class: faultClass,
            severity,
            title: 't',
            description: '',
            source: 'staff',
            reportedBy: 'user:sam',
            reportedAt,
          }))!;
          // Steps taken five minutes after the report: in time for every acknowledge clock.
          const at = new Date(reportedAt.getTime() + 5 * 60_000);
          let from: FaultStatus = 'open';
          for (const step of steps) {
            const to: FaultStatus =
              step === 'acknowledge'
                ? 'acknowledged'
                : step === 'fix_available'
                  ? 'fix_available'
                  : step === 'resolve'
                    ? 'resolved'
                    : 'closed';
            const changes =
              step === 'acknowledge'
                ? { acknowledgedBy: 'sam', acknowledgedAt: at }
                : step === 'fix_available'
                  ? { fixAvailableAt: at }
                  : step === 'resolve'
                    ? { resolvedBy: 'sam', resolvedAt: at }
                    : { closedAt: at };
            if (!(await store.faults.transition(fault.id, from, to, changes))) throw new Error(`${fault.id}: ${from} to ${to} refused`);
            from = to;
          }
          if (from !== status) throw new Error(`${fault.id} ended ${from}, not ${status}`);
          stored.push((await store.faults.get(fault.id))!);
        }
      }
    }
  }

  const expected = new Map<string, { count: number; acknowledgeLate: number; resolveLate: number }>();
  for (const fault of stored) {
    if (!['open', 'acknowledged', 'fix_available'].includes(fault.status)) continue;
    const key = `${fault.class} ${fault.status}`;
    const entry = expected.get(key) ?? { count: 0, acknowledgeLate: 0, resolveLate: 0 };
    const breach = breaches(fault, now);
    entry.count += 1;
    if (breach.acknowledge && !fault.acknowledgedAt && !fault.resolvedAt) entry.acknowledgeLate += 1;
    if (breach.resolve && !fault.resolvedAt) entry.resolveLate += 1;
    expected.set(key, entry);
  }
  const summary = await store.faults.unresolvedSummary(lateCutoffs(now));
  const actual = new Map(
    summary.map((row) => [
      `${row.class} ${row.status}`,
      { count: row.count, acknowledgeLate: row.acknowledgeLate, resolveLate: row.resolveLate },
    ]),
  );
  t.same(Object.fromEntries([...actual].sort()), Object.fromEntries([...expected].sort()), 'the store counts what the domain decides');
  t.ok(
    [...expected.values()].some((entry) => entry.acknowledgeLate > 0) && [...expected.values()].some((entry) => entry.resolveLate > 0),
    'both clocks have late faults here',
  );
  t.same(
    await store.faults
      .unresolvedSummary({ acknowledge: [], resolve: [] })
      .then((rows) => rows.filter((row) => row.acknowledgeLate + row.resolveLate > 0)),
    [],
    'no cutoffs, nothing late',
  );
});

forEachStore(t, 'plans counted by kind and status', async (t, store) => {
  await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'UTC' }, now);
  t.same(await store.plans.countByStatus(), [], 'no plans, no rows');
  for (const [id, kind] of [
    ['plan-1', 'upgrade'],
    ['plan-2', 'upgrade'],
    ['plan-3', 'commissioning'],
  ] as const) {
    await store.plans.insert(
      draftPlan(
        {
          id,
          kind,
          customer: 'acme',
          release: null,
          windows: [],
          waves: [],
          seed: id,
          deadline: new Date(now.getTime() + 86_400_000),
          notes: '',
          details: null,
          maxConcurrent: null,
          expectedInstallSeconds: 900,
          createdBy: 'sam',
        },
        now,
      ),
    );
  }
  t.ok(await store.plans.transition('plan-2', 'draft', 'proposed', {}, now));
  const counts = (await store.plans.countByStatus()).sort((a, b) => `${a.kind}${a.status}`.localeCompare(`${b.kind}${b.status}`));
  t.same(counts, [
    { kind: 'commissioning', status: 'draft', count: 1 },
    { kind: 'upgrade', status: 'draft', count: 1 },
    { kind: 'upgrade', status: 'proposed', count: 1 },
  ]);
});
