// The service desk's pure rules, as tables: fault clocks and breaches, the fault and support
// session transition tables, percentiles.
import t from 'tap';
import {
  dueTimes,
  breaches,
  faultTransitions,
  faultStatuses,
  transitionFault,
  parseFaultClass,
  type FaultEvent,
} from '../../server/domain/faults.js';
import { percentile, slaReport } from '../../server/domain/sla.js';
import {
  sessionTransitions,
  sessionStatuses,
  sessionEvents,
  transitionSession,
  isConsentLive,
  effectiveStatus,
  consentLapsed,
} from '../../server/domain/support-sessions.js';
import { errorCode } from '../helpers/errors.js';

const at = (time: string) => new Date(`2026-12-01T${time}:00Z`);

t.test('contract clocks per class', async (t) => {
  const table: [string, 'major' | 'general', string, string | null][] = [
    ['A', 'major', '10:15', '11:00'],
    ['A', 'general', '10:15', '12:00'],
    ['B', 'major', '10:30', '11:00'],
    ['B', 'general', '10:30', '12:00'],
    ['C', 'general', '10:45', null],
    ['D', 'major', '12:00', null],
  ];
  for (const [faultClass, severity, acknowledgeBy, resolveBy] of table) {
    const due = dueTimes({ class: faultClass as 'A', severity, reportedAt: at('10:00') });
    t.equal(due.acknowledgeBy.toISOString(), at(acknowledgeBy).toISOString(), `${faultClass} ${severity}: acknowledge by ${acknowledgeBy}`);
    t.equal(
      due.resolveBy?.toISOString() ?? null,
      resolveBy ? at(resolveBy).toISOString() : null,
      `${faultClass} ${severity}: resolve by ${resolveBy}`,
    );
  }
});

t.test('breaches', async (t) => {
  const table: [
    string,
    { acknowledgedAt?: string; resolvedAt?: string; class?: string; severity?: 'major' | 'general' },
    string,
    boolean,
    boolean,
  ][] = [
    ['A acknowledged at 10:16', { acknowledgedAt: '10:16' }, '10:20', true, false],
    ['A acknowledged at 10:15 exactly', { acknowledgedAt: '10:15' }, '10:20', false, false],
    ['A not acknowledged at 10:14', {}, '10:14', false, false],
    ['A not acknowledged at 10:16', {}, '10:16', true, false],
    ['A major resolved at 10:59', { acknowledgedAt: '10:05', resolvedAt: '10:59' }, '12:00', false, false],
    ['A major resolved at 11:01', { acknowledgedAt: '10:05', resolvedAt: '11:01' }, '12:00', false, true],
    ['A general resolved at 12:00', { acknowledgedAt: '10:05', resolvedAt: '12:00', severity: 'general' }, '13:00', false, false],
    ['B acknowledged at 10:29', { acknowledgedAt: '10:29', class: 'B' }, '10:40', false, false],
    ['D acknowledged at 11:59', { acknowledgedAt: '11:59', class: 'D' }, '13:00', false, false],
    ['D acknowledged at 12:01', { acknowledgedAt: '12:01', class: 'D' }, '13:00', true, false],
    ['C never resolved: no resolution clock', { acknowledgedAt: '10:10', class: 'C' }, '23:00', false, false],
  ];
  for (const [why, fault, now, acknowledge, resolve] of table) {
    const result = breaches(
      {
        class: (fault.class ?? 'A') as 'A',
        severity: fault.severity ?? 'major',
        reportedAt: at('10:00'),
        acknowledgedAt: fault.acknowledgedAt ? at(fault.acknowledgedAt) : null,
        resolvedAt: fault.resolvedAt ? at(fault.resolvedAt) : null,
      },
      at(now),
    );
    t.same(result, { acknowledge, resolve }, why);
  }
  t.equal(parseFaultClass('B'), 'B');
  t.equal(
    errorCode(() => parseFaultClass('E')),
    'validation_failed',
  );
});

t.test('fault and session transition tables: every row, every illegal pair', async (t) => {
  for (const row of faultTransitions) t.equal(transitionFault(row.from, row.event), row.to);
  for (const status of faultStatuses) {
    for (const event of ['acknowledge', 'fix_available', 'resolve', 'close'] as FaultEvent[]) {
      if (faultTransitions.some((row) => row.from === status && row.event === event)) continue;
      t.equal(
        errorCode(() => transitionFault(status, event)),
        'illegal_transition',
        `${status} --${event}-->`,
      );
    }
  }
  const future = new Date('2030-01-01T00:00:00Z');
  const past = at('09:00');
  // Expiring is the clock's step: it needs the expiry behind it; every other step needs it ahead.
  for (const row of sessionTransitions)
    t.equal(
      transitionSession({ status: row.from, expiresAt: row.event === 'expire' ? past : future }, row.event, at('10:00')),
      row.to,
      `${row.from} --${row.event}--> ${row.to}`,
    );
  for (const status of sessionStatuses) {
    for (const event of sessionEvents) {
      if (sessionTransitions.some((row) => row.from === status && row.event === event)) continue;
      const code = errorCode(() => transitionSession({ status, expiresAt: future }, event, at('10:00')));
      t.equal(code, event === 'upload' ? 'consent_required' : 'illegal_transition', `${status} --${event}--> ${code}`);
    }
  }
  t.equal(
    errorCode(() => transitionSession({ status: 'consented', expiresAt: future }, 'expire', at('10:00'))),
    'illegal_transition',
    'a live consent does not expire',
  );
  for (const event of ['withdraw', 'upload'] as const) {
    t.not(
      errorCode(() => transitionSession({ status: 'consented', expiresAt: past }, event, at('10:00'))),
      null,
      `a lapsed consent, not yet recorded expired, refuses ${event}`,
    );
  }
  t.equal(
    errorCode(() => transitionSession({ status: 'expired', expiresAt: past }, 'upload', at('10:00'))),
    'consent_required',
    'so does a recorded one',
  );
  const lapsed = { status: 'consented' as const, expiresAt: at('11:00') };
  t.same(
    [
      effectiveStatus(lapsed, at('10:59')),
      effectiveStatus(lapsed, at('11:00')),
      effectiveStatus({ status: 'expired', expiresAt: at('11:00') }, at('10:00')),
    ],
    ['consented', 'expired', 'expired'],
    'expired as people see it, recorded or not',
  );
  t.same(
    [
      consentLapsed(lapsed, at('10:59')),
      consentLapsed(lapsed, at('11:00')),
      consentLapsed({ status: 'expired', expiresAt: at('11:00') }, at('12:00')),
    ],
    [false, true, false],
    'lapsed: consented in storage, expired by the clock',
  );
  t.ok(isConsentLive({ status: 'consented', expiresAt: at('11:00') }, at('10:59')));
  t.notOk(isConsentLive({ status: 'consented', expiresAt: at('11:00') }, at('11:00')), 'expiry is exclusive');
  t.equal(
    errorCode(() => transitionSession({ status: 'consented', expiresAt: at('11:00') }, 'upload', at('11:00'))),
    'consent_required',
    'expired consent',
  );
});

t.test('nearest-rank percentiles and the report', async (t) => {
  t.equal(percentile([], 50), null);
  t.equal(percentile([7], 95), 7);
  t.equal(percentile([1, 2], 50), 1);
  t.equal(percentile([1, 2], 95), 2);
  t.equal(percentile([15, 20, 35, 40, 50], 50), 35);
  t.equal(
    percentile(
      Array.from({ length: 100 }, (_, index) => index + 1),
      95,
    ),
    95,
  );
  const report = slaReport(
    [
      { id: 'F-1', class: 'C', severity: 'general', reportedAt: at('10:00'), acknowledgedAt: at('10:40') },
      { id: 'F-2', class: 'C', severity: 'general', reportedAt: at('10:00'), acknowledgedAt: at('10:50') },
      { id: 'F-3', class: 'C', severity: 'general', reportedAt: new Date('2026-11-01T00:00:00Z'), acknowledgedAt: null },
    ],
    at('00:00'),
    at('23:59'),
    at('23:59'),
  );
  t.match(
    report.classes.C,
    { count: 2, acknowledge: { medianSeconds: 2400, p95Seconds: 3000, metShare: 0.5 }, breaches: [{ id: 'F-2' }] },
    'faults outside the period are left out',
  );
});
