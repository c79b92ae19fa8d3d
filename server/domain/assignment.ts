// What a device should do at an instant (issue: plans, "Assignment"): nothing, download and
// stage a release, or install it now. The device check-in signs and returns this answer.
// Pure: the instant and every count come in as data.
import semver from 'semver';
import {
  anchorAsap,
  earliestInstallSlot,
  installAllowed,
  occurrenceCovering,
  currentOrNextOccurrence,
  type MaintenanceWindow,
  type Occurrence,
} from './windows.js';
import { mayStartInstall } from './waves.js';
import { liveStatuses, type PlanStatus } from './plans.js';
import { installingStates } from '../../client/states.js';

export type AssignmentInput = {
  plan: {
    id: string;
    status: PlanStatus;
    /**
     * Once confirmed, the confirmed window only (then `confirmedWindowIndex` is 0 or absent),
     * or every proposed window with `confirmedWindowIndex` pointing at the confirmed one.
     */
    windows: MaintenanceWindow[];
    confirmedWindowIndex?: number | null;
    expectedInstallSeconds: number;
    maxConcurrent?: number | null;
    /** When the customer confirmed: pins an emergency window's start (DESIGN.md: "as soon as the customer consents"). */
    confirmedAt?: Date | null;
  };
  release: { id: string; version: string; yanked: boolean };
  /** `state` is the agent state the device last reported. */
  device: { id: string; version: string; state: string };
  deviceWave: number;
  openWave: number;
  /** Other devices of the plan installing right now (not counting this one). */
  activeInstalls: number;
  now: Date;
};

export type NoneReason = 'plan_not_live' | 'release_yanked' | 'up_to_date' | 'wave_not_open' | 'no_window';

export type Assignment =
  | { action: 'none'; reason: NoneReason }
  /** Download, verify and stage now; install in `occurrence` (the next one an install fits in), if any. */
  | { action: 'download'; occurrence: Occurrence | null }
  | { action: 'install'; occurrence: Occurrence };

function confirmedWindow(plan: AssignmentInput['plan']): MaintenanceWindow | undefined {
  const window = plan.windows[plan.confirmedWindowIndex ?? 0] ?? (plan.windows.length === 1 ? plan.windows[0] : undefined);
  return window && plan.confirmedAt ? anchorAsap(window, plan.confirmedAt) : window;
}

function isUpToDate(deviceVersion: string, releaseVersion: string): boolean {
  return semver.valid(deviceVersion) !== null && semver.valid(releaseVersion) !== null && !semver.gt(releaseVersion, deviceVersion);
}

/**
 * The rules, in order:
 * 1. only a confirmed or in-progress plan assigns anything (draft, proposed, countered,
 *    paused, completed, cancelled → none); never a yanked release;
 * 2. nothing for a device already at or above the release's version, or whose wave is not open;
 * 3. DESIGN.md, "Maintenance windows": "the agent may download and stage at any time after a
 *    plan is confirmed, but installs only when now is inside the occurrence and the install's
 *    expected duration still fits before its end; otherwise it waits for the next occurrence";
 * 4. and only while the plan's concurrency cap has room; a device already installing keeps
 *    its slot (it is counted among the plan's installs, not refused by them).
 */
export function assignmentFor(input: AssignmentInput): Assignment {
  const { plan, release, device, now } = input;
  if (!liveStatuses.has(plan.status)) return { action: 'none', reason: 'plan_not_live' };
  if (release.yanked) return { action: 'none', reason: 'release_yanked' };
  if (isUpToDate(device.version, release.version)) return { action: 'none', reason: 'up_to_date' };
  if (input.deviceWave > input.openWave) return { action: 'none', reason: 'wave_not_open' };
  const window = confirmedWindow(plan);
  if (!window) return { action: 'none', reason: 'no_window' };
  if (installingStates.has(device.state)) {
    const occurrence = currentOrNextOccurrence(window, now);
    if (occurrence) return { action: 'install', occurrence };
  }
  if (installAllowed(window, now, plan.expectedInstallSeconds) && mayStartInstall(input.activeInstalls, plan.maxConcurrent)) {
    return { action: 'install', occurrence: occurrenceCovering(window, now)! };
  }
  const slot = earliestInstallSlot([window], now, plan.expectedInstallSeconds);
  return { action: 'download', occurrence: slot?.occurrence ?? null };
}
