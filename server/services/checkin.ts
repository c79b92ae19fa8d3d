// The device check-in (DESIGN.md, "Trust model"): the answer is signed by the server's online
// key, bound to the device's nonce and short-lived, and carries the assignment — what the
// device should do now: nothing, download and stage a release, or install it in the window.
// The hottest route: a steady-state check-in costs one database round trip, the check-in
// read joined behind the token lookup (which brings the device's version and state,
// storage/repositories/checkin-read.ts); its presence is written behind (storage/presence.ts).
import semver from 'semver';
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import { knownManifestTexts } from '../storage/repositories/checkin-read.js';
import type { CheckinRead, LiveAssignment } from '../storage/repositories/records.js';
import type { Principal } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { signDocumentJsonWith } from '../../signing/signed.js';
import { assignmentFor } from '../domain/assignment.js';
import { releaseMisfit } from '../domain/release-fit.js';
import { openWave } from '../domain/waves.js';
import { liveStatuses } from '../domain/plans.js';
import { pollAfterSeconds } from '../domain/polling.js';
import { finishedStates, installingStates } from '../../client/states.js';
import type { CheckinAnswerType, CheckinAssignmentType } from '../../protocol/index.js';

/** What the device should do now (protocol/checkin.ts), with the manifest as the server keeps it. */
export type CheckinAssignment = Omit<CheckinAssignmentType, 'manifest'> & { manifest: LiveAssignment['release']['manifest'] };

/** What a check-in needs of the device: it comes with the device's token. */
export interface CheckinDevice {
  id: string;
  product: string;
  hardware: string;
  version: string;
  state: string | null;
}

/**
 * The first of the device's live plans that has something for it to do. A release whose
 * signed manifest does not fit the device as it is now (its version may have changed since
 * it joined the plan) is never offered (domain/release-fit.ts).
 */
function firstAssignment(device: CheckinDevice, plans: readonly LiveAssignment[], now: Date): CheckinAssignment | null {
  for (const { plan, release, deviceWave, deviceState, earlierWaves, activeInstalls } of plans) {
    if (deviceState && finishedStates.has(deviceState)) continue;
    if (releaseMisfit(release.manifest.signed, device)) continue;
    const downgrade = release.manifest.signed.downgrade === true;
    if (!downgrade && semver.valid(device.version) && !semver.gt(release.version, device.version)) continue;
    const decision = assignmentFor({
      plan: {
        id: plan.id,
        status: plan.status,
        windows: plan.confirmedWindow === null ? [] : [plan.windows[plan.confirmedWindow]],
        confirmedWindowIndex: 0,
        expectedInstallSeconds: plan.expectedInstallSeconds,
        maxConcurrent: plan.maxConcurrent,
        confirmedAt: plan.confirmedAt,
      },
      release: { id: release.id, version: release.version, yanked: release.yanked },
      device: { id: device.id, version: downgrade ? '0.0.0' : device.version, state: deviceState ?? device.state ?? 'idle' },
      deviceWave,
      openWave: openWave(plan.waves, earlierWaves, now),
      activeInstalls,
      now,
    });
    if (decision.action === 'none') continue;
    return {
      id: plan.id,
      plan: plan.id,
      release: release.id,
      manifest: release.manifest,
      artifactUrl: `/api/v1/releases/${release.id}/artifact`,
      window: decision.occurrence ? { start: decision.occurrence.start.toISOString(), end: decision.occurrence.end.toISOString() } : null,
      installAllowed: decision.action === 'install',
      downgrade,
    };
  }
  return null;
}

async function readCheckin(store: Store, device: CheckinDevice, now: Date, read?: CheckinRead) {
  read ??= await store.plans.checkinRead(device.id, liveStatuses, installingStates);
  return { assignment: firstAssignment(device, read.assignments, now), consentedSessions: read.consentedSessions };
}

/**
 * The token's holder and, for a device, what its check-in reads, in one statement: the
 * check-in route authenticates with this instead of the plain token lookup. Null for an
 * unknown or revoked token.
 */
export function checkinByToken(store: Store, token: string): Promise<{ principal: Principal; read: CheckinRead } | null> {
  return store.plans.checkinReadByToken(token, liveStatuses, installingStates);
}

/** What the device should do now, by its live plans (sluice's check-in and the DDI controller base). */
export async function assignmentForDevice(
  context: SluiceContext,
  device: CheckinDevice,
  now: Date,
  store: Store = context.store,
): Promise<CheckinAssignment | null> {
  return (await readCheckin(store, device, now)).assignment;
}

export interface CheckinRequest {
  version: string;
  nonce: string;
  state?: string;
}

/**
 * The signed answer as JSON text, ready to send. `read`: what `checkinByToken` read with the
 * device's token (read again when absent). The device's presence (`last_seen_at` and the
 * state it reports) is the caller's to record: it is written behind, in batches.
 */
export async function answerCheckin(
  context: SluiceContext,
  device: CheckinDevice,
  request: CheckinRequest,
  now: Date,
  read?: CheckinRead,
): Promise<string> {
  if (!context.checkinSigner) throw new SluiceError('conflict', 'this server has no online signing key configured');
  const { assignment, consentedSessions } = await readCheckin(context.store, device, now, read);
  // Only a device with a consented support session can have diagnostics to collect.
  const diagnostics = consentedSessions ? ((await context.diagnosticsRequest?.(device.id, now)) ?? null) : null;
  const signed: Omit<CheckinAnswerType, 'assignment'> & { assignment: CheckinAssignment | null } = {
    type: 'checkin' as const,
    deviceId: device.id,
    nonce: request.nonce,
    serverTime: now.toISOString(),
    expires: new Date(now.getTime() + context.options.checkinTtlSeconds * 1000).toISOString(),
    pollAfterSeconds: pollAfterSeconds({
      baseSeconds: context.options.pollSeconds,
      window: assignment?.window,
      installAllowed: assignment?.installAllowed,
      now,
    }),
    assignment,
    diagnostics,
  };
  return signDocumentJsonWith(signed, context.checkinSigner, knownManifestTexts);
}
