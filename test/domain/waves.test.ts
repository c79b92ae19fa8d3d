// Waves: seeded random membership, failure limits judged after a minimum, the concurrency cap.
import t from 'tap';
import { assignWaves, judgeWave, mayStartInstall, waveForLateDevice } from '../../server/domain/waves.js';

const devices = Array.from({ length: 100 }, (_, index) => `emu-${String(index).padStart(4, '0')}`);

t.test('membership is random, reproducible from the seed, and covers every device once', async (t) => {
  const specs = [{ percent: 10 }, { percent: 90 }];
  const first = assignWaves(devices, specs, 'plan-1');
  t.same(first.map((wave) => wave.length), [10, 90]);
  t.same(assignWaves([...devices].reverse(), specs, 'plan-1'), first, 'same seed, same waves, whatever the input order');
  t.notSame(assignWaves(devices, specs, 'plan-2')[0], first[0], 'another seed draws another canary');
  t.notSame(first[0], devices.slice(0, 10), 'not by creation order');
  t.same(first.flat().sort(), devices, 'every device exactly once');
  t.same(assignWaves(devices.slice(0, 3), [{ count: 1 }, { count: 1 }, { percent: 100 }], 's').map((wave) => wave.length), [1, 1, 1]);
  t.same(assignWaves(devices.slice(0, 2), [{ percent: 10 }, { percent: 10 }, { percent: 80 }], 's').map((wave) => wave.length), [1, 1, 0], 'fewer devices than waves');
  t.same(assignWaves(devices, [], 's').map((wave) => wave.length), [100], 'no waves: one wave of everything');
  t.equal(waveForLateDevice(3), 2, 'late devices join the last wave');
});

t.test('a wave is judged against its failure limit only after enough devices finished', async (t) => {
  const table: [object, { total: number; succeeded: number; failed: number; inProgress: number }, string, string][] = [
    [{ failureLimit: { percent: 10 }, minFinished: 10 }, { total: 100, succeeded: 0, failed: 1, inProgress: 50 }, 'running', 'one early failure does not decide a large wave'],
    [{ failureLimit: { percent: 10 }, minFinished: 10 }, { total: 100, succeeded: 7, failed: 3, inProgress: 50 }, 'failed', '30% of ten finished is over 10%'],
    [{ failureLimit: { percent: 10 }, minFinished: 10 }, { total: 100, succeeded: 9, failed: 1, inProgress: 50 }, 'running', '10% is not over 10%'],
    [{ failureLimit: { count: 2 } }, { total: 50, succeeded: 10, failed: 2, inProgress: 5 }, 'running', 'two failures are within a count of two'],
    [{ failureLimit: { count: 2 } }, { total: 50, succeeded: 10, failed: 3, inProgress: 5 }, 'failed', 'the third failure exceeds it'],
    [{ failureLimit: { count: 5 } }, { total: 10, succeeded: 9, failed: 1, inProgress: 0 }, 'succeeded', 'all finished within the limit'],
    [{ failureLimit: { count: 5 }, successThreshold: 0.95 }, { total: 10, succeeded: 9, failed: 1, inProgress: 0 }, 'failed', 'but under the success threshold'],
    [{ failureLimit: { percent: 100 } }, { total: 0, succeeded: 0, failed: 0, inProgress: 0 }, 'running', 'an empty wave never decides'],
  ];
  for (const [spec, counts, verdict, why] of table) t.equal(judgeWave(spec, counts), verdict, why);
});

t.test('the concurrency cap', async (t) => {
  t.ok(mayStartInstall(4, 5));
  t.notOk(mayStartInstall(5, 5));
  t.ok(mayStartInstall(1000, null), 'no cap');
});
