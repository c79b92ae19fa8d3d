// Writes an artifact's chunk index and chunk pack in one read of it (`sluice release sign`):
// the pack goes to disk as it is made, through one 1 MiB buffer, hashed on the way, so that
// its SHA-256 and size can be signed beside the index's. When compressing saves less than
// `leastSaving`, the pack is the artifact itself (every chunk stored as it is) and no file is
// written: an image that does not compress (noise, an already compressed filesystem) is then
// stored and uploaded once, not twice (`release publish` sent 512 MiB of noise twice: 5.8 s
// where the artifact alone took half).
import { createHash } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { buildChunkIndex, storedAsIs } from './chunk-index.js';
import type { ChunkingParameters } from './chunking.js';

/** A pack that saves less than this share of the artifact's bytes is not worth a second copy. */
export const leastSaving = 0.05;

export async function writeChunkPack(artifact: string, packPath: string, parameters?: ChunkingParameters) {
  const partial = `${packPath}.partial`;
  const file = openSync(partial, 'w');
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let held = 0;
  const flush = () => {
    for (let done = 0; done < held;) done += writeSync(file, buffer, done, held - done);
    held = 0;
  };
  try {
    const built = await buildChunkIndex(artifact, {
      parameters,
      pack: (packed) => {
        hash.update(packed);
        if (held + packed.length > buffer.length) flush();
        held += packed.copy(buffer, held);
      },
    });
    flush();
    closeSync(file);
    // A pack from an earlier signing of another artifact must not be taken for this one's.
    rmSync(packPath, { force: true });
    if (built.packSize > built.size * (1 - leastSaving)) {
      rmSync(partial, { force: true });
      return {
        ...built,
        index: storedAsIs(built.index),
        packSize: built.size,
        pack: { sha256: built.sha256, size: built.size },
        packFile: null,
      };
    }
    renameSync(partial, packPath);
    return { ...built, pack: { sha256: hash.digest('hex'), size: built.packSize }, packFile: packPath };
  } catch (error) {
    try {
      closeSync(file);
    } catch {
      /* already closed */
    }
    rmSync(partial, { force: true });
    throw error;
  }
}
