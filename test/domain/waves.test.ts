// Waves (DESIGN.md, "Upgrade plans": "10% then the rest, each with a failure limit that pauses
// the plan"): seeded membership, verdicts, opening with soak time, late devices, the cap.
import t from 'tap';
import fc from 'fast-check';
import {
  assignWaves,
  judgeWave,
  waveStates,
  placeLateDevice,
  waveForLateDevice,
  mayStartInstall,
  validateWaves,
  seededRandom,
  defaultWave,
  type WaveSpec,
  type WaveCounts,
} from '../../server/domain/waves.js';
import { errorCode } from '../helpers/errors.js';

const devices = Array.from({ length: 100 }, (_, index) => `emu-${String(index).padStart(4, '0')}`);
const counts = (total: number, succeeded: number, failed: number, inProgress = 0): WaveCounts => ({ total, succeeded, failed, inProgress });

t.test('membership is random, reproducible from the seed, and covers every device once', async (t) => {
  const specs = [{ percent: 10 }, { percent: 90 }];
  const first = assignWaves(devices, specs, 'plan-1');
  t.same(
    first.map((wave) => wave.length),
    [10, 90],
  );
  t.same(assignWaves([...devices].reverse(), specs, 'plan-1'), first, 'same seed, same waves, whatever the input order');
  t.notSame(assignWaves(devices, specs, 'plan-2')[0], first[0], 'another seed draws another canary');
  t.notSame(first[0], devices.slice(0, 10), 'not by creation order');
  t.same(first.flat().sort(), devices, 'every device exactly once');
  t.same(assignWaves([...devices, ...devices.slice(0, 5)], specs, 'plan-1'), first, 'duplicates count once');
  const random = seededRandom('fixed');
  t.same(
    [random(), random()].map((value) => value.toFixed(6)),
    (() => {
      const again = seededRandom('fixed');
      return [again(), again()].map((value) => value.toFixed(6));
    })(),
    'the PRNG is a pure function of its seed',
  );
});

t.test('wave sizes', async (t) => {
  const table: [number, WaveSpec[], number[], string][] = [
    [100, [{ percent: 10 }, { percent: 90 }], [10, 90], '10% then the rest'],
    [100, [{ percent: 10 }, { percent: 10 }], [10, 90], 'the last wave takes the remainder whatever its percent'],
    [15, [{ percent: 10 }, { percent: 100 }], [2, 13], 'a share rounds up'],
    [100, [{ count: 5 }, { percent: 20 }, {}], [5, 20, 75], 'counts and shares mixed'],
    [3, [{ count: 1 }, { count: 1 }, { percent: 100 }], [1, 1, 1], 'one each'],
    [3, [{ percent: 100 }, { percent: 50 }, {}], [1, 1, 1], 'a greedy first wave leaves one for each later wave'],
    [2, [{ percent: 10 }, { percent: 10 }, { percent: 80 }], [1, 1, 0], 'fewer devices than waves: the last ones are empty'],
    [0, [{ percent: 10 }, { percent: 90 }], [0, 0], 'no devices'],
    [100, [], [100], 'no waves: one wave of everything'],
  ];
  for (const [size, specs, expected, why] of table)
    t.same(
      assignWaves(devices.slice(0, size), specs, 's').map((wave) => wave.length),
      expected,
      why,
    );
});

t.test('property: a partition of the devices, non-empty waves while devices last', async (t) => {
  const spec = fc.oneof(fc.record({ percent: fc.integer({ min: 1, max: 100 }) }), fc.record({ count: fc.integer({ min: 1, max: 30 }) }));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 60 }), fc.array(spec, { maxLength: 6 }), fc.string(), (size, specs, seed) => {
      const ids = devices.slice(0, size);
      const waves = assignWaves(ids, specs, seed);
      const flat = waves.flat();
      return (
        waves.length === Math.max(1, specs.length) &&
        flat.length === size &&
        new Set(flat).size === size &&
        waves.every((wave, index) => wave.length > 0 || (size < waves.length && index >= size))
      );
    }),
    { numRuns: 300, seed: 17 },
  );
  t.pass('holds');
});

t.test('judgeWave: failure limits, minimum finished, success threshold', async (t) => {
  const table: [WaveSpec, WaveCounts, string, string][] = [
    [
      { failureLimit: { percent: 10 }, minFinished: 10 },
      counts(100, 0, 1, 50),
      'running',
      'one early failure does not decide a large wave',
    ],
    [{ failureLimit: { percent: 10 }, minFinished: 10 }, counts(100, 7, 3, 50), 'failed', '30% of ten finished is over 10%'],
    [{ failureLimit: { percent: 10 }, minFinished: 10 }, counts(100, 6, 3, 50), 'running', 'nine finished: the rate is not judged yet'],
    [{ failureLimit: { percent: 10 }, minFinished: 10 }, counts(100, 9, 1, 50), 'running', '10% is not over 10%'],
    [
      { failureLimit: { percent: 10 }, minFinished: 50 },
      counts(100, 0, 11, 50),
      'failed',
      'over 10% of the whole wave is certain, whatever the minimum',
    ],
    [{ failureLimit: { percent: 10 }, minFinished: 50 }, counts(100, 0, 10, 50), 'running', 'exactly 10% of the wave is not yet certain'],
    [
      { failureLimit: { percent: 20 }, minFinished: 500 },
      counts(5, 3, 1, 1),
      'running',
      'minFinished is capped at the wave size: 4 of 5 finished',
    ],
    [{ failureLimit: { percent: 20 }, minFinished: 500 }, counts(5, 4, 1, 0), 'succeeded', 'all five finished, 20% is within 20%'],
    [{ failureLimit: { count: 2 } }, counts(50, 10, 2, 5), 'running', 'two failures are within a count of two'],
    [{ failureLimit: { count: 2 } }, counts(50, 10, 3, 5), 'failed', 'the third failure exceeds it'],
    [{ failureLimit: { count: 0 }, minFinished: 10 }, counts(50, 0, 1, 5), 'failed', 'a count is certain at once, before minFinished'],
    [{ failureLimit: { count: 5 } }, counts(10, 9, 1), 'succeeded', 'all finished within the limit'],
    [{ failureLimit: { count: 5 } }, counts(10, 5, 5), 'succeeded', 'a count limit alone: half failed is within five'],
    [{ failureLimit: { count: 5 }, successThreshold: 0.95 }, counts(10, 9, 1), 'failed', 'but under the success threshold'],
    [{ failureLimit: { count: 5 }, successThreshold: 0.9 }, counts(10, 9, 1), 'succeeded', 'at the success threshold'],
    [{ failureLimit: { percent: 100 } }, counts(0, 0, 0), 'running', 'an empty wave never decides'],
    [{ failureLimit: { percent: 100 } }, counts(4, 0, 4), 'succeeded', 'a 100% limit tolerates everything'],
    [{}, counts(100, 9, 1, 90), 'running', 'default: 10% of ten finished is within the default 10%'],
    [{}, counts(100, 8, 2, 90), 'failed', 'default: 20% of ten finished is over it'],
    [{}, counts(100, 0, 2, 98), 'running', 'default: two finished are too few to judge a rate'],
    [defaultWave, counts(3, 2, 1), 'failed', 'default wave: one of three is over 10%'],
  ];
  for (const [spec, wave, verdict, why] of table) t.equal(judgeWave(spec, wave), verdict, why);
});

t.test('waveStates: which wave is open, when the next opens, when the plan must pause', async (t) => {
  const specs: WaveSpec[] = [
    { percent: 10, soakSeconds: 3600, failureLimit: { count: 0 } },
    { percent: 30, failureLimit: { count: 1 } },
    { failureLimit: { percent: 10 } },
  ];
  const now = new Date('2026-12-06T12:00:00Z');
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3600_000);
  const table: [
    WaveCounts[],
    (Date | null)[],
    { openWave: number; mustPause: boolean; failedWave: number | null; nextOpensAt: string | null },
    string,
  ][] = [
    [
      [counts(10, 0, 0, 10), counts(30, 0, 0), counts(60, 0, 0)],
      [],
      { openWave: 0, mustPause: false, failedWave: null, nextOpensAt: null },
      'the canary runs',
    ],
    [
      [counts(10, 10, 0), counts(30, 0, 0), counts(60, 0, 0)],
      [hoursAgo(0.5)],
      { openWave: 0, mustPause: false, failedWave: null, nextOpensAt: '2026-12-06T12:30:00.000Z' },
      'canary done, soaking',
    ],
    [
      [counts(10, 10, 0), counts(30, 0, 0), counts(60, 0, 0)],
      [null],
      { openWave: 0, mustPause: false, failedWave: null, nextOpensAt: null },
      'canary done, finish not recorded: closed',
    ],
    [
      [counts(10, 10, 0), counts(30, 0, 0), counts(60, 0, 0)],
      [hoursAgo(1)],
      { openWave: 1, mustPause: false, failedWave: null, nextOpensAt: null },
      'soaked exactly: wave 1 opens',
    ],
    [
      [counts(10, 9, 1), counts(30, 0, 0), counts(60, 0, 0)],
      [hoursAgo(2)],
      { openWave: 0, mustPause: true, failedWave: 0, nextOpensAt: null },
      'a canary failure pauses the plan',
    ],
    [
      [counts(10, 10, 0), counts(30, 28, 2), counts(60, 0, 0)],
      [hoursAgo(2)],
      { openWave: 1, mustPause: true, failedWave: 1, nextOpensAt: null },
      'wave 1 over its count',
    ],
    [
      [counts(10, 10, 0), counts(30, 29, 1), counts(60, 0, 0)],
      [hoursAgo(2), null],
      { openWave: 2, mustPause: false, failedWave: null, nextOpensAt: null },
      'no soak after wave 1: the rest opens at once',
    ],
    [
      [counts(10, 10, 0), counts(30, 29, 1), counts(60, 60, 0)],
      [hoursAgo(2), hoursAgo(1)],
      { openWave: 2, mustPause: false, failedWave: null, nextOpensAt: null },
      'all done',
    ],
    [
      [counts(10, 10, 0), counts(30, 29, 1), counts(60, 30, 10, 20)],
      [hoursAgo(2), hoursAgo(1)],
      { openWave: 2, mustPause: true, failedWave: 2, nextOpensAt: null },
      'the last wave fails',
    ],
  ];
  for (const [perWave, finishedAt, expected, why] of table) {
    const state = waveStates(specs, perWave, now, finishedAt);
    t.same(
      {
        openWave: state.openWave,
        mustPause: state.mustPause,
        failedWave: state.failedWave,
        nextOpensAt: state.nextOpensAt?.toISOString() ?? null,
      },
      expected,
      why,
    );
  }
  t.same(waveStates([], [counts(5, 5, 0)], now, []).verdicts, ['succeeded'], 'no specs: the default single wave');
  t.equal(waveStates(specs, [], now, []).openWave, 0, 'no counts yet: wave 0 open, nothing decided');
});

t.test('late devices join the last wave', async (t) => {
  const waves = [['a'], ['b', 'c'], ['d']];
  t.equal(placeLateDevice(waves, 'late'), 2, 'a new device goes last');
  t.equal(placeLateDevice(waves, 'b'), 1, 'a known device keeps its wave');
  t.equal(placeLateDevice([], 'late'), 0, 'no waves yet');
  t.equal(waveForLateDevice(3), 2);
  t.equal(waveForLateDevice(0), 0);
});

t.test('the concurrency cap', async (t) => {
  const table: [number, number | null | undefined, boolean][] = [
    [0, 1, true],
    [4, 5, true],
    [5, 5, false],
    [6, 5, false],
    [0, 0, false],
    [1000, null, true],
    [1000, undefined, true],
  ];
  for (const [active, cap, expected] of table) t.equal(mayStartInstall(active, cap), expected, `${active} installing, cap ${cap}`);
});

t.test('validateWaves names the wave and field', async (t) => {
  const table: [unknown, string | null, RegExp | null][] = [
    [undefined, null, null],
    [[{ percent: 10, failureLimit: { percent: 5 }, minFinished: 5, soakSeconds: 600 }, {}], null, null],
    [{}, 'validation_failed', /a list/],
    [[{ percent: 0 }], 'validation_failed', /waves\[0\]\.percent/],
    [[{}, { percent: 101 }], 'validation_failed', /waves\[1\]\.percent/],
    [[{ count: 1.5 }], 'validation_failed', /waves\[0\]\.count/],
    [[{ count: 2, percent: 10 }], 'validation_failed', /percent or count/],
    [[{ successThreshold: 1.2 }], 'validation_failed', /successThreshold/],
    [[{ failureLimit: { percent: -1 } }], 'validation_failed', /failureLimit\.percent/],
    [[{ failureLimit: { count: 'two' } }], 'validation_failed', /failureLimit\.count/],
    [[{ failureLimit: 3 }], 'validation_failed', /failureLimit must be/],
    [[{ soakSeconds: -5 }], 'validation_failed', /soakSeconds/],
    [['ten'], 'validation_failed', /waves\[0\] must be an object/],
  ];
  for (const [value, code, message] of table) {
    t.equal(
      errorCode(() => validateWaves(value)),
      code,
      JSON.stringify(value) ?? 'undefined',
    );
    if (message) t.throws(() => validateWaves(value), { message });
  }
});
