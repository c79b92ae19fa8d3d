// Writes an artifact's chunk index and chunk pack in one read of it (`sluice release sign`):
// the pack goes to disk as it is made, through one 1 MiB buffer, hashed on the way, so that
// its SHA-256 and size can be signed beside the index's.
import { createHash } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { buildChunkIndex } from './chunk-index.js';
import type { ChunkingParameters } from './chunking.js';

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
    renameSync(partial, packPath);
    return { ...built, pack: { sha256: hash.digest('hex'), size: built.packSize } };
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
