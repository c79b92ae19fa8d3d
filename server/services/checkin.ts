// The device check-in (DESIGN.md, "Trust model"): the answer is signed by the server's online
// key, bound to the device's nonce and short-lived, and carries the assignment — what the
// device should do now: nothing, download and stage a release, or install it in the window.
import semver from 'semver';
import type { SluiceContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { signDocumentJsonWith } from '../../signing/signed.js';
import type { DeviceRow } from '../storage/identity.js';
import { activeInstallsOfPlan, livePlansOfDevice, planWaves, type PlanRow } from '../storage/plans.js';
import { getReleaseRow, type Release } from '../storage/releases.js';
import { createManifestMemo } from './manifest-memo.js';
import { assignmentFor } from '../domain/assignment.js';
import type { MaintenanceWindow } from '../domain/windows.js';
import type { WaveSpec } from '../domain/waves.js';
import { finishedStates } from './plan-view.js';

export interface CheckinAssignment {
  id: string;
  plan: string;
  release: string;
  manifest: Release['manifest'];
  artifactUrl: string;
  window: { start: string; end: string } | null;
  installAllowed: boolean;
  downgrade: boolean;
}

/** The wave that is open now: every earlier wave succeeded and its soak time has passed. */
export function openWave(plan: PlanRow, now: Date, waves = [] as { wave: number; status: string; finished_at: string | null }[]): number {
  const specs = JSON.parse(plan.waves) as WaveSpec[];
  let open = 0;
  for (const wave of waves) {
    if (wave.status !== 'succeeded' || !wave.finished_at) break;
    const soak = (specs[wave.wave]?.soakSeconds ?? 0) * 1000;
    if (new Date(wave.finished_at).getTime() + soak > now.getTime()) break;
    open = wave.wave + 1;
  }
  return open;
}

// Shared by every check-in in this process (see manifest-memo.ts for why that is safe).
const manifests = createManifestMemo();

export function assignmentForDevice(context: SluiceContext, device: CheckinDevice, now: Date): CheckinAssignment | null {
  const { db } = context;
  for (const plan of livePlansOfDevice(db, device.id)) {
    if (!plan.release || plan.wave === null) continue;
    if (plan.device_state && finishedStates.has(plan.device_state)) continue;
    const release = getReleaseRow(db, plan.release)!;
    const manifest = manifests.manifestOf(release);
    const downgrade = manifest.signed.downgrade === true;
    if (!downgrade && semver.valid(device.version) && !semver.gt(release.version, device.version)) continue;
    const windows = JSON.parse(plan.windows) as MaintenanceWindow[];
    // Only a plan with a concurrency cap needs its install count.
    const activeInstalls = plan.max_concurrent === null ? 0 : activeInstallsOfPlan(db, plan.id, device.id);
    const decision = assignmentFor({
      plan: {
        id: plan.id, status: plan.status as never, windows: plan.confirmed_window === null ? [] : [windows[plan.confirmed_window]],
        confirmedWindowIndex: 0, expectedInstallSeconds: plan.expected_install_seconds, maxConcurrent: plan.max_concurrent ?? undefined,
        confirmedAt: plan.confirmed_at ? new Date(plan.confirmed_at) : undefined,
      },
      release: { id: release.id, version: release.version, yanked: release.yanked_at !== null },
      device: { id: device.id, version: downgrade ? '0.0.0' : device.version, state: plan.device_state ?? device.state ?? 'idle' },
      deviceWave: plan.wave,
      openWave: openWave(plan, now, planWaves(db, plan.id)),
      activeInstalls,
      now,
    } as Parameters<typeof assignmentFor>[0]);
    if (decision.action === 'none') continue;
    return {
      id: plan.id,
      plan: plan.id,
      release: release.id,
      manifest,
      artifactUrl: `/api/v1/releases/${release.id}/artifact`,
      window: decision.occurrence ? { start: decision.occurrence.start.toISOString(), end: decision.occurrence.end.toISOString() } : null,
      installAllowed: decision.action === 'install',
      downgrade,
    };
  }
  return null;
}

/** What a check-in needs of the device's row. */
export type CheckinDevice = Pick<DeviceRow, 'id' | 'version' | 'state'>;

export interface CheckinRequest { version: string; nonce: string; state?: string }

/**
 * The signed answer as JSON text, ready to send. The device's presence (`last_seen_at` and
 * the state it reports) is the caller's to record: it is written behind, in batches
 * (storage/presence.ts).
 */
export async function answerCheckin(context: SluiceContext, device: CheckinDevice, request: CheckinRequest, now: Date): Promise<string> {
  if (!context.checkinSigner) throw new SluiceError('conflict', 'this server has no online signing key configured');
  const assignment = assignmentForDevice(context, device, now);
  const signed = {
    type: 'checkin' as const,
    deviceId: device.id,
    nonce: request.nonce,
    serverTime: now.toISOString(),
    expires: new Date(now.getTime() + context.options.checkinTtlSeconds * 1000).toISOString(),
    pollAfterSeconds: pollAfter(context, assignment, now),
    assignment,
    diagnostics: context.diagnosticsRequest?.(device.id, now) ?? null,
  };
  return signDocumentJsonWith(signed, context.checkinSigner, manifests.known);
}

/** Poll sooner when a window is about to open, so the install starts near its beginning. */
function pollAfter(context: SluiceContext, assignment: CheckinAssignment | null, now: Date): number {
  const base = context.options.pollSeconds;
  if (!assignment?.window || assignment.installAllowed) return base;
  const untilStart = Math.ceil((new Date(assignment.window.start).getTime() - now.getTime()) / 1000);
  return untilStart > 0 ? Math.max(1, Math.min(base, untilStart)) : base;
}
