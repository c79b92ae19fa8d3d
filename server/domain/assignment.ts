// What a device should do at an instant (issue: plans, "Assignment"): nothing, download and
// stage a release, or install it now. The device check-in returns this.
import { currentOrNextOccurrence, installAllowed, type MaintenanceWindow, type Occurrence } from './windows.js';
import { mayStartInstall } from './waves.js';
import type { PlanStatus } from './plans.js';
import semver from 'semver';

export interface AssignmentInput {
  plan: { id: string; status: PlanStatus; windows: MaintenanceWindow[]; expectedInstallSeconds: number; maxConcurrent?: number | null };
  release: { id: string; version: string; yanked: boolean };
  device: { id: string; version: string; state: string };
  deviceWave: number;
  openWave: number;
  /** Other devices of the plan installing right now. */
  activeInstalls: number;
  now: Date;
}

export type Assignment =
  | { action: 'none'; reason: 'plan_not_live' | 'release_yanked' | 'wave_not_open' | 'up_to_date' | 'no_window' }
  | { action: 'download'; occurrence: Occurrence | null }
  | { action: 'install'; occurrence: Occurrence };

const installingStates = new Set(['installing', 'health_check']);

export function assignmentFor(input: AssignmentInput): Assignment {
  const { plan, release, device, now } = input;
  if (plan.status !== 'confirmed' && plan.status !== 'in_progress') return { action: 'none', reason: 'plan_not_live' };
  if (release.yanked) return { action: 'none', reason: 'release_yanked' };
  if (semver.valid(device.version) && !semver.gt(release.version, device.version)) return { action: 'none', reason: 'up_to_date' };
  if (input.deviceWave > input.openWave) return { action: 'none', reason: 'wave_not_open' };
  const window = plan.windows[0];
  if (!window) return { action: 'none', reason: 'no_window' };
  // DESIGN.md: download and stage any time after confirmation; install only inside the
  // occurrence when the expected duration still fits, and within the plan's concurrency cap.
  const occurrence = currentOrNextOccurrence(window, now);
  const alreadyInstalling = installingStates.has(device.state);
  if (occurrence && (alreadyInstalling || (installAllowed(window, now, plan.expectedInstallSeconds) && mayStartInstall(input.activeInstalls, plan.maxConcurrent)))) {
    return { action: 'install', occurrence };
  }
  return { action: 'download', occurrence };
}
