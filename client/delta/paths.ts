// Where the delta's files live in the agent's data directory: beside the partial download,
// the verified chunk index and the running count of bytes fetched (both survive a restart);
// the kept copy of the last installed artifact with its index, the next update's seed; and the
// running image's remembered cut, the seed when no artifact is kept.
import { join } from 'node:path';
import { artifactPaths } from '../slots.js';

export function deltaPaths(dataDir: string, sha256: string) {
  const { partial } = artifactPaths(dataDir, sha256);
  return {
    partial,
    index: `${partial}.chunks`,
    /** { method, bytesDownloaded } so far, across restarts. */
    delivery: `${partial}.delivery.json`,
    /** Present once the delta was found unusable for this artifact: full download only. */
    noDelta: `${partial}.no-delta`,
  };
}

export function installedPaths(dataDir: string) {
  const directory = join(dataDir, 'installed');
  return {
    directory,
    artifact: join(directory, 'artifact.bin'),
    index: join(directory, 'artifact.chunks'),
    /** { sha256, size, chunkIndexSha256 } of the kept artifact. */
    record: join(directory, 'artifact.json'),
  };
}

export function sourcePaths(dataDir: string) {
  const directory = join(dataDir, 'source');
  return {
    /** The running image's chunk keys (seed.ts, `seedOfSource`). */
    keys: join(directory, 'source.keys'),
    /** Which file, as it was then, and with which chunk sizes, the keys describe. */
    record: join(directory, 'source.json'),
  };
}
