// What a device should do at an instant: the rows the check-in relies on (DESIGN.md,
// "Maintenance windows": download and stage any time after confirmation, install only inside
// the occurrence when the expected duration still fits; plus waves and the concurrency cap).
import t from 'tap';
import { assignmentFor, type AssignmentInput, type Assignment } from '../../server/domain/assignment.js';
import type { MaintenanceWindow } from '../../server/domain/windows.js';
import type { PlanStatus } from '../../server/domain/plans.js';

const madrid: MaintenanceWindow = { start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Madrid' }; // 01:00Z–04:00Z
const lordHoweSundays: MaintenanceWindow = { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Australia/Lord_Howe' }; // Sat 15:00Z–18:00Z in December
const base: AssignmentInput = {
  plan: { id: 'p', status: 'confirmed', windows: [madrid], expectedInstallSeconds: 900, maxConcurrent: 2 },
  release: { id: 'r', version: '2.0.0', yanked: false },
  device: { id: 'd', version: '1.0.0', state: 'staged' },
  deviceWave: 0,
  openWave: 0,
  activeInstalls: 0,
  now: new Date('2026-12-06T02:00:00Z'),
};

type Change = Partial<Omit<AssignmentInput, 'plan' | 'device'>> & {
  plan?: Partial<AssignmentInput['plan']>;
  device?: Partial<AssignmentInput['device']>;
  at?: string;
};
type Expected = { action: Assignment['action']; reason?: string; occurrence?: string | null };

const cases: [string, Change, Expected][] = [
  ['inside the window', {}, { action: 'install', occurrence: '2026-12-06T01:00:00.000Z' }],
  ['at the very start', { at: '2026-12-06T01:00:00Z' }, { action: 'install', occurrence: '2026-12-06T01:00:00.000Z' }],
  [
    'before the window: download and stage, told when to install',
    { at: '2026-12-01T00:00:00Z' },
    { action: 'download', occurrence: '2026-12-06T01:00:00.000Z' },
  ],
  ['exactly fits before the end', { at: '2026-12-06T03:45:00Z' }, { action: 'install', occurrence: '2026-12-06T01:00:00.000Z' }],
  ['too late for the install to fit, and no other occurrence', { at: '2026-12-06T03:45:01Z' }, { action: 'download', occurrence: null }],
  ['after the window', { at: '2026-12-06T04:00:00Z' }, { action: 'download', occurrence: null }],
  [
    'recurring: too late this Sunday, wait for the next',
    { plan: { windows: [lordHoweSundays] }, at: '2026-12-05T17:50:00Z' },
    { action: 'download', occurrence: '2026-12-12T15:00:00.000Z' },
  ],
  [
    'recurring: inside',
    { plan: { windows: [lordHoweSundays] }, at: '2026-12-05T16:00:00Z' },
    { action: 'install', occurrence: '2026-12-05T15:00:00.000Z' },
  ],
  ['in progress plans install too', { plan: { status: 'in_progress' } }, { action: 'install' }],
  ...(['draft', 'proposed', 'countered', 'paused', 'completed', 'cancelled'] as PlanStatus[]).map((status): [string, Change, Expected] => [
    `a ${status} plan`,
    { plan: { status } },
    { action: 'none', reason: 'plan_not_live' },
  ]),
  ['a yanked release', { release: { id: 'r', version: '2.0.0', yanked: true } }, { action: 'none', reason: 'release_yanked' }],
  ['a device already on the version', { device: { version: '2.0.0', state: 'committed' } }, { action: 'none', reason: 'up_to_date' }],
  ['a device above the version', { device: { version: '2.1.0' } }, { action: 'none', reason: 'up_to_date' }],
  ['a pre-release below the version', { device: { version: '2.0.0-rc.1' } }, { action: 'install' }],
  ['a device version that is not semver: not judged up to date', { device: { version: 'factory' } }, { action: 'install' }],
  ['a device in a wave not yet open', { deviceWave: 1 }, { action: 'none', reason: 'wave_not_open' }],
  ['a device in an earlier wave', { deviceWave: 0, openWave: 2 }, { action: 'install' }],
  ['no window at all', { plan: { windows: [] } }, { action: 'none', reason: 'no_window' }],
  [
    'the concurrency cap is full: stage and wait in this occurrence',
    { activeInstalls: 2 },
    { action: 'download', occurrence: '2026-12-06T01:00:00.000Z' },
  ],
  ['one slot left', { activeInstalls: 1 }, { action: 'install' }],
  ['no cap', { activeInstalls: 500, plan: { maxConcurrent: null } }, { action: 'install' }],
  ['a device already installing keeps its slot', { activeInstalls: 2, device: { state: 'installing' } }, { action: 'install' }],
  ['a device in its health check keeps its slot', { activeInstalls: 2, device: { state: 'health_check' } }, { action: 'install' }],
  [
    'a device already installing is not cut off when the fit runs out',
    { at: '2026-12-06T03:59:00Z', device: { state: 'installing' } },
    { action: 'install', occurrence: '2026-12-06T01:00:00.000Z' },
  ],
  [
    'the confirmed window among the proposed ones',
    { plan: { windows: [lordHoweSundays, madrid], confirmedWindowIndex: 1 } },
    { action: 'install', occurrence: '2026-12-06T01:00:00.000Z' },
  ],
  [
    'the confirmed window alone, with its original index',
    { plan: { windows: [madrid], confirmedWindowIndex: 3 } },
    { action: 'install', occurrence: '2026-12-06T01:00:00.000Z' },
  ],
  [
    'emergency: open from the consent',
    { plan: { windows: [{ asap: true }], confirmedAt: new Date('2026-12-06T01:59:00Z') } },
    { action: 'install', occurrence: '2026-12-06T01:59:00.000Z' },
  ],
  [
    'emergency: weeks after the consent, still open',
    { plan: { windows: [{ asap: true }], confirmedAt: new Date('2026-11-01T00:00:00Z') } },
    { action: 'install', occurrence: '2026-11-01T00:00:00.000Z' },
  ],
  [
    'emergency: the cap still applies',
    { activeInstalls: 2, plan: { windows: [{ asap: true }], confirmedAt: new Date('2026-12-06T01:59:00Z') } },
    { action: 'download', occurrence: '2026-12-06T01:59:00.000Z' },
  ],
];

t.test('assignment table', async (t) => {
  for (const [why, change, expected] of cases) {
    const input: AssignmentInput = {
      ...base,
      ...change,
      plan: { ...base.plan, ...change.plan },
      device: { ...base.device, ...change.device },
      now: change.at ? new Date(change.at) : (change.now ?? base.now),
    };
    const result = assignmentFor(input);
    t.equal(result.action, expected.action, why);
    if (expected.reason) t.equal((result as { reason?: string }).reason, expected.reason, `${why}: reason`);
    if (expected.occurrence !== undefined) {
      t.equal(
        (result as { occurrence?: { start: Date } | null }).occurrence?.start.toISOString() ?? null,
        expected.occurrence,
        `${why}: occurrence`,
      );
    }
  }
});

t.test('an install answer always carries the occurrence it may run in, and it fits', async (t) => {
  for (let minutes = -30; minutes <= 210; minutes += 5) {
    const now = new Date(Date.parse('2026-12-06T01:00:00Z') + minutes * 60_000);
    const result = assignmentFor({ ...base, now });
    if (result.action !== 'install') continue;
    t.ok(result.occurrence.start <= now && now.getTime() + 900_000 <= result.occurrence.end.getTime(), `at ${now.toISOString()}`);
  }
});
