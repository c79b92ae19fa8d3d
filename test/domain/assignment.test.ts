// What a device should do at an instant: the rows the check-in relies on.
import t from 'tap';
import { assignmentFor, type AssignmentInput } from '../../server/domain/assignment.js';

const window = { start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Madrid' }; // 01:00Z–04:00Z
const base: AssignmentInput = {
  plan: { id: 'p', status: 'confirmed', windows: [window], expectedInstallSeconds: 900, maxConcurrent: 2 },
  release: { id: 'r', version: '2.0.0', yanked: false },
  device: { id: 'd', version: '1.0.0', state: 'staged' },
  deviceWave: 0, openWave: 0, activeInstalls: 0, now: new Date('2026-12-06T02:00:00Z'),
};
const cases: [string, Partial<AssignmentInput> & { planStatus?: string }, string, string?][] = [
  ['inside the window', {}, 'install'],
  ['before the window: download and stage, wait', { now: new Date('2026-12-01T00:00:00Z') }, 'download'],
  ['too late for the install to fit', { now: new Date('2026-12-06T03:50:00Z') }, 'download'],
  ['a plan still proposed', { planStatus: 'proposed' }, 'none', 'plan_not_live'],
  ['a paused plan', { planStatus: 'paused' }, 'none', 'plan_not_live'],
  ['a yanked release', { release: { id: 'r', version: '2.0.0', yanked: true } }, 'none', 'release_yanked'],
  ['a device already on the version', { device: { id: 'd', version: '2.0.0', state: 'idle' } }, 'none', 'up_to_date'],
  ['a device in a wave not yet open', { deviceWave: 1 }, 'none', 'wave_not_open'],
  ['the concurrency cap is full', { activeInstalls: 2 }, 'download'],
  ['a device already installing keeps its slot', { activeInstalls: 2, device: { id: 'd', version: '1.0.0', state: 'installing' } }, 'install'],
];

t.test('assignment table', async (t) => {
  for (const [why, change, action, reason] of cases) {
    const input = { ...base, ...change, plan: { ...base.plan, ...(change.planStatus ? { status: change.planStatus as never } : {}) } };
    const result = assignmentFor(input);
    t.equal(result.action, action, why);
    if (reason) t.equal((result as { reason: string }).reason, reason, `${why}: reason`);
  }
});
