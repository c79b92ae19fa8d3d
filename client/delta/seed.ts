// What the device already has (docs/delta-updates.md): the chunks of a seed image (the kept
// copy of the last installed artifact, or the running slot's image), found by their SHA-256.
// A seed's chunks come from its own signed index when the agent kept one, else from chunking
// the seed here, with the new index's chunk sizes. Memory: 36 bytes a chunk and a map entry.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chunkFile, digestKey, parseChunkIndex, type ChunkIndex } from '../../signing/chunk-index.js';
import type { ChunkingParameters } from '../../signing/chunking.js';

export interface Seed {
  path: string;
  /** The chunk of the seed whose SHA-256 is the new index's chunk `index`, or -1. */
  find(index: ChunkIndex, chunk: number): number;
  offsets: Float64Array;
  lengths: Uint32Array;
}

function seedOf(path: string, digests: Buffer, offsets: Float64Array, lengths: Uint32Array, count: number): Seed {
  // The seed's chunks sorted by the first 4 bytes of their digest: 4 bytes a chunk, where a
  // Map would take ten times that (a gibibyte's image has a quarter of a million chunks).
  const keys = new Uint32Array(count);
  for (let chunk = 0; chunk < count; chunk++) keys[chunk] = digestKey(digests, chunk);
  const order = new Uint32Array(count);
  for (let chunk = 0; chunk < count; chunk++) order[chunk] = chunk;
  // Ties by position: the first copy of the bytes is found first.
  order.sort((left, right) => keys[left] - keys[right] || left - right);
  return {
    path,
    offsets,
    lengths,
    find(index, chunk) {
      const key = digestKey(index.digests, chunk);
      let low = 0;
      let high = count;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (keys[order[middle]] < key) low = middle + 1;
        else high = middle;
      }
      for (let at = low; at < count && keys[order[at]] === key; at++) {
        const candidate = order[at];
        // All 32 bytes of the digest must agree, and the length too.
        if (
          lengths[candidate] === index.lengths[chunk] &&
          digests.compare(index.digests, chunk * 32, chunk * 32 + 32, candidate * 32, candidate * 32 + 32) === 0
        )
          return candidate;
      }
      return -1;
    },
  };
}

/** A seed described by an index the agent verified before (the kept artifact's), if it still fits the file. */
export function seedFromIndex(path: string, indexPath: string, indexSha256: string): Seed | null {
  if (!existsSync(path) || !existsSync(indexPath)) return null;
  const bytes = readFileSync(indexPath);
  if (createHash('sha256').update(bytes).digest('hex') !== indexSha256) return null;
  let index: ChunkIndex;
  try {
    index = parseChunkIndex(bytes, statSync(path).size);
  } catch {
    return null;
  }
  return seedOf(path, index.digests, index.offsets, index.lengths, index.count);
}

/** Chunks the seed file with the new index's parameters: one streaming read. */
export async function seedByChunking(path: string, parameters: ChunkingParameters): Promise<Seed | null> {
  if (!existsSync(path) || !statSync(path).isFile()) return null;
  // Sized for the expected count, grown by half: doubling a gibibyte's arrays cost 10 MiB at the peak.
  let capacity = Math.max(1024, Math.ceil((statSync(path).size / parameters.averageSize) * 1.1));
  let digests = Buffer.allocUnsafe(capacity * 32);
  let offsets = new Float64Array(capacity);
  let lengths = new Uint32Array(capacity);
  let count = 0;
  await chunkFile(
    path,
    (offset, length, digest) => {
      if (count === capacity) {
        capacity = Math.ceil(capacity * 1.5);
        const grown = Buffer.allocUnsafe(capacity * 32);
        digests.copy(grown);
        digests = grown;
        const grownOffsets = new Float64Array(capacity);
        grownOffsets.set(offsets);
        offsets = grownOffsets;
        const grownLengths = new Uint32Array(capacity);
        grownLengths.set(lengths);
        lengths = grownLengths;
      }
      digest.copy(digests, count * 32);
      offsets[count] = offset;
      lengths[count] = length;
      count++;
    },
    parameters,
    [],
    { wholeDigest: false },
  );
  return seedOf(path, digests, offsets.subarray(0, count), lengths.subarray(0, count), count);
}
