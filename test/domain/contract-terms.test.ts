// A customer's contract terms and the waits on the customer, as tables: terms over the seed's
// table (lengths, 24×7 or service hours, across midnight, a holiday and Madrid's spring-forward
// night), terms refused by name, and questions pausing a clock together with a consent wait,
// across the end of the service day.
import t from 'tap';
import {
  contractTerms,
  defaultContractTerms,
  settingWithTerms,
  termsChanged,
  type ClassTerms,
} from '../../server/domain/contract-terms.js';
import {
  defaultClockSetting,
  faultClocks,
  lateCutoffs,
  questionPauses,
  type ClockSetting,
  type Pause,
} from '../../server/domain/fault-clock.js';
import type { FaultClass } from '../../server/domain/faults.js';
import type { ServiceHours } from '../../server/domain/service-hours.js';
import { errorCode } from '../helpers/errors.js';

const madrid: ServiceHours = {
  zone: 'Europe/Madrid',
  weekdays: [1, 2, 3, 4, 5],
  opens: '08:00',
  closes: '17:00',
  holidays: ['2026-12-08'],
};
const base: ClockSetting = { ...defaultClockSetting, serviceHours: madrid };
const instant = (text: string) => new Date(text);
const minutes = (count: number) => count * 60_000;

t.test("terms over the seed's table", async (t) => {
  t.same(termsChanged(contractTerms()), {}, 'no terms of its own: the seed');
  t.same(
    Object.values(defaultContractTerms).map((terms) => [terms.acknowledgeMinutes, terms.aroundTheClock]),
    [
      [15, true],
      [30, true],
      [45, false],
      [120, false],
    ],
  );
  const table: [string, Partial<Record<FaultClass, ClassTerms>>, FaultClass, string, string, boolean][] = [
    ['seed: A 15 min around the clock at 03:00 on a Sunday', {}, 'A', '2026-12-06T03:00:00Z', '2026-12-06T03:15:00.000Z', false],
    [
      'seed: C 45 service minutes from 16:40 Madrid (15:40Z): 20 today, 25 tomorrow',
      {},
      'C',
      '2026-12-01T15:40:00Z',
      '2026-12-02T07:25:00.000Z',
      true,
    ],
    [
      'C made 24×7 and 20 min: due across midnight',
      { C: { acknowledgeMinutes: 20, aroundTheClock: true } },
      'C',
      '2026-12-01T22:50:00Z',
      '2026-12-01T23:10:00.000Z',
      false,
    ],
    [
      'A made service hours: reported on Saturday, due Monday 08:15 Madrid',
      { A: { acknowledgeMinutes: 15, aroundTheClock: false } },
      'A',
      '2026-12-05T10:00:00Z',
      '2026-12-07T07:15:00.000Z',
      true,
    ],
    [
      'D 120 service minutes skips the holiday (8 Dec)',
      { D: { acknowledgeMinutes: 120, aroundTheClock: false } },
      'D',
      '2026-12-07T15:00:00Z',
      '2026-12-09T08:00:00.000Z',
      true,
    ],
    [
      'B longer: 90 min around the clock',
      { B: { acknowledgeMinutes: 90, aroundTheClock: true } },
      'B',
      '2026-12-01T10:00:00Z',
      '2026-12-01T11:30:00.000Z',
      false,
    ],
    // 29 Mar 2026: Madrid springs forward on a Sunday; Monday opens at 08:00 CEST = 06:00Z.
    [
      'service hours across spring forward',
      { C: { acknowledgeMinutes: 30, aroundTheClock: false } },
      'C',
      '2026-03-27T15:45:00Z',
      '2026-03-30T06:15:00.000Z',
      true,
    ],
  ];
  for (const [name, own, faultClass, reportedAt, dueAt, serviceHours] of table) {
    const setting = settingWithTerms(base, contractTerms(own));
    const clocks = faultClocks({ class: faultClass, severity: 'general', reportedAt: instant(reportedAt) }, instant(reportedAt), setting);
    t.equal(clocks.acknowledge.dueAt.toISOString(), dueAt, name);
    t.equal(clocks.serviceHours, serviceHours, `${name}: counts ${serviceHours ? 'service hours' : 'around the clock'}`);
  }
  const shorter = settingWithTerms(base, contractTerms({ A: { acknowledgeMinutes: 5, aroundTheClock: true } }));
  const warned = faultClocks(
    { class: 'A', severity: 'major', reportedAt: instant('2026-12-01T10:00:00Z') },
    instant('2026-12-01T10:00:00Z'),
    shorter,
  );
  t.equal(warned.acknowledge.warnAt.toISOString(), '2026-12-01T10:04:00.000Z', 'the warning at 80 % of the terms, not the seed');
  const cutoff = lateCutoffs(instant('2026-12-01T10:00:00Z'), shorter).acknowledge.find((entry) => entry.class === 'A')!;
  t.equal(cutoff.reportedBefore.toISOString(), '2026-12-01T09:55:00.000Z', 'the cutoffs count by the terms too');
});

t.test('terms no clock could count are refused by name', async (t) => {
  const table: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown class', { E: { acknowledgeMinutes: 10, aroundTheClock: true } }, /no fault class "E"/],
    ['zero minutes', { A: { acknowledgeMinutes: 0, aroundTheClock: true } }, /class A acknowledgeMinutes/],
    ['a fraction', { B: { acknowledgeMinutes: 1.5, aroundTheClock: true } }, /class B acknowledgeMinutes/],
    ['beyond a fortnight', { C: { acknowledgeMinutes: 20161, aroundTheClock: false } }, /from 1 to 20160/],
    ['no way of counting', { D: { acknowledgeMinutes: 60 } }, /class D aroundTheClock/],
  ];
  for (const [name, own, message] of table) {
    t.equal(
      errorCode(() => contractTerms(own as never)),
      'invalid_contract_terms',
      name,
    );
    t.throws(() => contractTerms(own as never), message);
  }
  t.same(
    termsChanged(contractTerms({ A: { acknowledgeMinutes: 15, aroundTheClock: true } })),
    {},
    'terms equal to the seed are not a change',
  );
});

t.test('questions pause the clock, with consent waits, across the end of the day', async (t) => {
  const question = (askedAt: string, answeredAt: string | null) => ({
    askedAt: instant(askedAt),
    answeredAt: answeredAt === null ? null : instant(answeredAt),
  });
  t.same(questionPauses([question('2026-12-01T10:05:00Z', null)]), [{ start: instant('2026-12-01T10:05:00Z'), end: null }]);
  const table: [string, FaultClass, string, Pause[], string, { dueAt: string; pausedMinutes: number; paused: boolean }][] = [
    [
      'B: a 20 min question moves the 30 min clock by 20',
      'B',
      '2026-12-01T10:00:00Z',
      questionPauses([question('2026-12-01T10:10:00Z', '2026-12-01T10:30:00Z')]),
      '2026-12-01T11:00:00Z',
      { dueAt: '2026-12-01T10:50:00.000Z', pausedMinutes: 20, paused: false },
    ],
    [
      'B: a question and a consent wait that overlap count once',
      'B',
      '2026-12-01T10:00:00Z',
      [
        ...questionPauses([question('2026-12-01T10:10:00Z', '2026-12-01T10:30:00Z')]),
        { start: instant('2026-12-01T10:20:00Z'), end: instant('2026-12-01T10:40:00Z') },
      ],
      '2026-12-01T11:00:00Z',
      { dueAt: '2026-12-01T11:00:00.000Z', pausedMinutes: 30, paused: false },
    ],
    [
      'B: an open question holds the clock; the due time moves on while it waits',
      'B',
      '2026-12-01T10:00:00Z',
      questionPauses([question('2026-12-01T10:10:00Z', null)]),
      '2026-12-01T12:00:00Z',
      { dueAt: '2026-12-01T12:20:00.000Z', pausedMinutes: 110, paused: true },
    ],
    [
      // Madrid closes at 17:00 (16:00Z): the evening counted nothing anyway.
      'C: a question asked at 16:50 Madrid and answered next morning at 09:00 moves the clock by the service time it held',
      'C',
      '2026-12-01T15:30:00Z',
      questionPauses([question('2026-12-01T15:50:00Z', '2026-12-02T08:00:00Z')]),
      '2026-12-02T09:00:00Z',
      { dueAt: '2026-12-02T08:25:00.000Z', pausedMinutes: 970, paused: false },
    ],
  ];
  for (const [name, faultClass, reportedAt, pauses, now, expected] of table) {
    const clocks = faultClocks({ class: faultClass, severity: 'general', reportedAt: instant(reportedAt), pauses }, instant(now), base);
    t.same(
      { dueAt: clocks.acknowledge.dueAt.toISOString(), pausedMinutes: clocks.pausedMs / minutes(1), paused: clocks.paused },
      expected,
      name,
    );
  }
});
