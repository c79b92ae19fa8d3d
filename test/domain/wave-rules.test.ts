// The wave rules that the check-in, the device reports and the late-device listener used to
// write each their own way, now in server/domain/waves.ts and server/domain/plans.ts: the
// open wave from recorded verdicts and soak times, the no-waves default wave and its 10 %
// limit, the wave a late device joins, and a plan's progress from its devices' states.
import t from 'tap';
import {
  openWave,
  nextWaveOpensAt,
  waveSpecOf,
  lateDeviceWave,
  tallyPlan,
  judgeWave,
  defaultFailureLimit,
  waveStates,
  type RecordedWave,
  type WaveSpec,
  type StateCount,
} from '../../server/domain/waves.js';
import { lateJoiningStatuses, liveStatuses, planStatuses } from '../../server/domain/plans.js';

const now = new Date('2026-12-06T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
const recorded = (wave: number, status: string, finishedAt: Date | null = null): RecordedWave => ({ wave, status, finishedAt });

t.test('openWave: a wave opens once every earlier one succeeded and soaked', async (t) => {
  const specs: WaveSpec[] = [{ count: 1, soakSeconds: 1800 }, { percent: 20 }, {}];
  const table: [RecordedWave[], number, string][] = [
    [[], 0, 'nothing recorded: wave 0'],
    [[recorded(0, 'open')], 0, 'the canary runs'],
    [[recorded(0, 'succeeded', minutesAgo(10))], 0, 'the canary succeeded, soaking for 30 minutes'],
    [[recorded(0, 'succeeded', minutesAgo(30))], 1, 'soaked exactly: wave 1 opens'],
    [[recorded(0, 'succeeded', null)], 0, 'a soak time without a recorded finish keeps the next wave closed'],
    [[recorded(0, 'failed', minutesAgo(90))], 0, 'a failed wave opens nothing'],
    [[recorded(0, 'succeeded', minutesAgo(90)), recorded(1, 'succeeded', now)], 2, 'no soak after wave 1: the rest opens at once'],
    [[recorded(1, 'succeeded', minutesAgo(90)), recorded(0, 'succeeded', minutesAgo(90))], 2, 'in any order'],
    [[recorded(0, 'succeeded', minutesAgo(90)), recorded(2, 'succeeded', minutesAgo(90))], 1, 'a gap stops the count'],
    [[recorded(0, 'pending'), recorded(1, 'succeeded', minutesAgo(90))], 0, 'a later success does not skip an earlier wave'],
  ];
  for (const [waves, expected, why] of table) t.equal(openWave(specs, waves, now), expected, why);
  t.equal(openWave([], [recorded(0, 'succeeded', now)], now), 1, 'no waves: the default wave has no soak');
});

t.test('openWave agrees with waveStates on the same verdicts', async (t) => {
  const specs: WaveSpec[] = [{ count: 1, soakSeconds: 600 }, { count: 1, soakSeconds: 600 }, {}];
  const done = { total: 1, succeeded: 1, failed: 0, inProgress: 0 };
  const running = { total: 1, succeeded: 0, failed: 0, inProgress: 1 };
  for (const finished of [[], [minutesAgo(20)], [minutesAgo(20), minutesAgo(5)], [minutesAgo(20), minutesAgo(15)]]) {
    const counts = [...finished.map(() => done), running];
    const fromCounts = waveStates(specs, counts, now, finished).openWave;
    t.equal(
      openWave(
        specs,
        finished.map((at, wave) => recorded(wave, 'succeeded', at)),
        now,
      ),
      fromCounts,
      `${finished.length} waves finished`,
    );
  }
});

t.test('the soak rule', async (t) => {
  t.equal(nextWaveOpensAt({}, minutesAgo(5)), null, 'no soak time: at once');
  t.equal(nextWaveOpensAt({ soakSeconds: 0 }, null), null);
  t.equal(nextWaveOpensAt({ soakSeconds: 60 }, null), undefined, 'a soak time and no finish: not yet');
  t.same(nextWaveOpensAt({ soakSeconds: 60 }, minutesAgo(5)), minutesAgo(4));
});

t.test('a plan without waves runs the default wave, whose failure limit is 10 %', async (t) => {
  const table: [WaveSpec[], number, WaveSpec, string][] = [
    [[], 0, { name: 'all', percent: 100, failureLimit: defaultFailureLimit }, 'no waves: the default'],
    [[], 3, { name: 'all', percent: 100, failureLimit: defaultFailureLimit }, 'any index of a plan without waves'],
    [[{ count: 1 }, { percent: 100, failureLimit: { count: 2 } }], 1, { percent: 100, failureLimit: { count: 2 } }, 'its own spec'],
    [
      [{ count: 1 }, { percent: 100, failureLimit: { count: 2 } }],
      5,
      { percent: 100, failureLimit: { count: 2 } },
      'beyond the specs: the last',
    ],
  ];
  for (const [specs, index, expected, why] of table) t.same(waveSpecOf(specs, index), expected, why);
  t.same(defaultFailureLimit, { percent: 10 });
  const verdict = (failed: number, succeeded: number, total = 20) =>
    judgeWave(waveSpecOf([], 0), { total, succeeded, failed, inProgress: total - failed - succeeded });
  const table2: [number, number, number, string, string][] = [
    [2, 0, 20, 'running', 'two of twenty, none else finished: 10 % of the wave, not more'],
    [1, 9, 20, 'running', 'one in ten finished'],
    [2, 9, 20, 'failed', 'two in eleven finished: more than 10 %'],
    [3, 0, 20, 'failed', 'three of twenty: more than 10 % of the whole wave'],
    [1, 4, 5, 'failed', 'a small plan: one of five'],
    [0, 20, 20, 'succeeded', 'all committed'],
  ];
  for (const [failed, succeeded, total, expected, why] of table2) t.equal(verdict(failed, succeeded, total), expected, why);
});

t.test('a device created after the waves were drawn joins the last wave of plans still rolling out', async (t) => {
  const table: [WaveSpec[], number, string][] = [
    [[], 0, 'no waves: the one default wave'],
    [[{ count: 1 }], 0, 'one wave'],
    [[{ percent: 10 }, { percent: 90 }], 1, 'canary and the rest: the rest'],
    [[{ count: 1 }, { count: 2 }, {}], 2, 'three waves: the third'],
  ];
  for (const [specs, expected, why] of table) t.equal(lateDeviceWave(specs), expected, why);
  const joining = planStatuses.filter((status) => lateJoiningStatuses.has(status));
  t.same(
    joining,
    ['confirmed', 'in_progress', 'paused'],
    'confirmed, rolling out or paused; not before the waves are drawn, not once over',
  );
  t.ok(
    [...liveStatuses].every((status) => lateJoiningStatuses.has(status)),
    'every live plan takes late devices',
  );
});

t.test("a plan's progress from its devices' states", async (t) => {
  const counts: StateCount[] = [
    { wave: null, state: null, devices: 2 },
    { wave: 0, state: 'committed', devices: 3 },
    { wave: 0, state: 'failed', devices: 1 },
    { wave: 0, state: 'rolled_back', devices: 1 },
    { wave: 1, state: 'downloading', devices: 4 },
    { wave: 1, state: 'idle', devices: 1 },
    { wave: 1, state: null, devices: 5 },
  ];
  const tally = tallyPlan(counts);
  t.equal(tally.total, 17);
  t.same(tally.byState, { pending: 7, committed: 3, failed: 1, rolled_back: 1, downloading: 4, idle: 1 });
  t.same(tally.waves.get(0), { total: 5, succeeded: 3, failed: 2, inProgress: 0 }, 'failed and rolled back both fail');
  t.same(tally.waves.get(1), { total: 10, succeeded: 0, failed: 0, inProgress: 4 }, 'idle and unreported are not in flight');
  t.equal(tally.everyoneFinished, false);
  const finished = tallyPlan([
    { wave: 0, state: 'committed', devices: 3 },
    { wave: 0, state: 'rolled_back', devices: 1 },
  ]);
  t.equal(finished.everyoneFinished, true, "committed, failed and rolled back all finish a device's part");
  t.equal(
    tallyPlan([
      { wave: 0, state: 'committed', devices: 3 },
      { wave: 0, state: 'health_check', devices: 1 },
    ]).everyoneFinished,
    false,
  );
});
