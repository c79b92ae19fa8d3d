// Who may fetch a release's bytes (its artifact, chunk index and chunk pack): staff may, to
// examine them; a device only a release it is assigned, not yanked, and made for its
// hardware and version. One home for the rule, called by every route that serves those bytes.
import { SluiceError } from '../errors.js';
import { releaseMisfit } from '../domain/release-fit.js';
import type { Principal } from '../auth/principal.js';
import type { Store } from '../storage/store.js';
import type { Release } from '../storage/repositories/records.js';

export async function checkMayFetchRelease(store: Store, principal: Principal | null, release: Release): Promise<void> {
  if (principal?.kind !== 'device') return;
  if (!(await store.releases.deviceMayDownload(principal.id, release.id))) {
    throw new SluiceError('not_assigned', `device ${principal.id} is not assigned release ${release.id}`);
  }
  // Yank means stop: devices get nothing more of it; staff still may, to examine it.
  if (release.yankedAt)
    throw new SluiceError(
      'release_yanked',
      `release ${release.product} ${release.version} was yanked: ${release.yankReason || 'no reason given'}`,
    );
  const misfit = releaseMisfit(release.manifest.signed, principal);
  if (misfit)
    throw new SluiceError('not_assigned', `release ${release.id} does not fit device ${principal.id}: ${misfit.message}`, {
      reason: misfit.reason,
    });
}
