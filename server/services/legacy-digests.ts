// SHA-1 and MD5 of an artifact, which hawkBit's DDI clients (SWUpdate, RAUC's hawkBit
// updater) expect beside the SHA-256. They protect nothing (the signed manifest's SHA-256
// does) and MD5 alone hashes at a third of SHA-256's speed, so they are left out of the
// upload's path: publishing starts them in the background, and a DDI answer that comes
// first (or after a restart lost the background work) computes them itself. Either way they
// are computed once and kept in the release's row; an empty string means "not yet".
import { createHash } from 'node:crypto';
import { digestStored, type ArtifactStore } from '../storage/artifact-store.js';
import type { SluiceContext } from '../context.js';
import type { Release } from '../storage/repositories/records.js';

export interface LegacyDigests {
  sha1: string;
  md5: string;
}

// Computations under way in this process, so that two askers share one pass over the file.
const running = new Map<string, Promise<LegacyDigests>>();

export function legacyDigestsOf(context: SluiceContext, release: Pick<Release, 'sha256' | 'sha1' | 'md5'>): Promise<LegacyDigests> {
  if (release.sha1 && release.md5) return Promise.resolve({ sha1: release.sha1, md5: release.md5 });
  let computing = running.get(release.sha256);
  if (!computing) {
    computing = hashWithLegacyDigests(context.artifacts, release.sha256)
      .then(async (digests) => {
        await context.store.releases.setLegacyDigests(release.sha256, digests);
        return digests;
      })
      .finally(() => running.delete(release.sha256));
    running.set(release.sha256, computing);
  }
  return computing;
}

async function hashWithLegacyDigests(artifacts: ArtifactStore, sha256: string): Promise<LegacyDigests> {
  const sha1 = createHash('sha1');
  const md5 = createHash('md5');
  await digestStored(artifacts, sha256, [sha1, md5]);
  return { sha1: sha1.digest('hex'), md5: md5.digest('hex') };
}
