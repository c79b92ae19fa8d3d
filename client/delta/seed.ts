// What the device already has (docs/delta-updates.md): the chunks of a seed image (the kept
// copy of the last installed artifact, or the running slot's image), found by their SHA-256.
// A seed's chunks come from its own signed index when the agent kept one, else from chunking
// the seed here, with the new index's chunk sizes. Memory: 18 bytes a chunk (22 from 4 GiB), in typed arrays.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chunkFile, offsetsFor, parseChunkIndex, type ChunkIndex, type Offsets } from '../../signing/chunk-index.js';
import type { ChunkingParameters } from '../../signing/chunking.js';

export interface Seed {
  path: string;
  /** The chunk of the seed whose SHA-256 is the new index's chunk `index`, or -1. */
  find(index: ChunkIndex, chunk: number): number;
  offsets: Offsets;
  lengths: Uint16Array;
}

/**
 * A seed's chunks are known by the first 8 bytes of their SHA-256 (two 32-bit words) and their
 * length, not all 32 bytes: a quarter of the memory. The bytes copied from the seed are not
 * trusted on that word anyway: the whole image is checked against the signed manifest, and a
 * false match (odds about 2^-28 for a gibibyte's image against another) fails that check and
 * costs a full download, never a wrong install.
 */
class ChunkKeys {
  high: Uint32Array;
  low: Uint32Array;
  offsets: Offsets;
  /** Chunks of an index are at most 64 KiB, so are the seed's cut with its sizes. */
  lengths: Uint16Array;
  count = 0;

  constructor(
    private capacity: number,
    private readonly size: number,
  ) {
    this.high = new Uint32Array(capacity);
    this.low = new Uint32Array(capacity);
    this.offsets = offsetsFor(size, capacity);
    this.lengths = new Uint16Array(capacity);
  }

  add(offset: number, length: number, digests: Buffer, at: number): void {
    // Grown by half: doubling a gibibyte's arrays cost 10 MiB at the peak.
    if (this.count === this.capacity) this.grow(Math.ceil(this.capacity * 1.5));
    this.high[this.count] = digests.readUInt32BE(at);
    this.low[this.count] = digests.readUInt32BE(at + 4);
    this.offsets[this.count] = offset;
    this.lengths[this.count] = length;
    this.count++;
  }

  private grow(capacity: number): void {
    const high = new Uint32Array(capacity);
    high.set(this.high);
    this.high = high;
    const low = new Uint32Array(capacity);
    low.set(this.low);
    this.low = low;
    const offsets = offsetsFor(this.size, capacity);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const lengths = new Uint16Array(capacity);
    lengths.set(this.lengths);
    this.lengths = lengths;
    this.capacity = capacity;
  }
}

function seedOf(path: string, keys: ChunkKeys): Seed {
  const { high, low, count } = keys;
  const offsets = keys.offsets.subarray(0, count);
  const lengths = keys.lengths.subarray(0, count);
  // The chunks sorted by key; ties by position, so the first copy of the bytes is found first.
  const order = new Uint32Array(count);
  for (let chunk = 0; chunk < count; chunk++) order[chunk] = chunk;
  order.sort((left, right) => high[left] - high[right] || low[left] - low[right] || left - right);
  return {
    path,
    offsets,
    lengths,
    find(index, chunk) {
      const wantHigh = index.digests.readUInt32BE(chunk * index.digestBytes);
      const wantLow = index.digests.readUInt32BE(chunk * index.digestBytes + 4);
      let bottom = 0;
      let top = count;
      while (bottom < top) {
        const middle = (bottom + top) >>> 1;
        const at = order[middle];
        if (high[at] < wantHigh || (high[at] === wantHigh && low[at] < wantLow)) bottom = middle + 1;
        else top = middle;
      }
      for (let at = bottom; at < count && high[order[at]] === wantHigh && low[order[at]] === wantLow; at++) {
        const candidate = order[at];
        if (lengths[candidate] === index.lengths[chunk]) return candidate;
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
  const keys = new ChunkKeys(index.count, index.size);
  for (let chunk = 0; chunk < index.count; chunk++)
    keys.add(index.offsets[chunk], index.lengths[chunk], index.digests, chunk * index.digestBytes);
  return seedOf(path, keys);
}

/** Chunks the seed file with the new index's parameters: one streaming read. */
export async function seedByChunking(path: string, parameters: ChunkingParameters): Promise<Seed | null> {
  if (!existsSync(path) || !statSync(path).isFile()) return null;
  const size = statSync(path).size;
  const keys = new ChunkKeys(Math.max(1024, Math.ceil((size / parameters.averageSize) * 1.1)), size);
  await chunkFile(path, (offset, length, digest) => keys.add(offset, length, digest, 0), parameters, { wholeDigest: false });
  return seedOf(path, keys);
}
