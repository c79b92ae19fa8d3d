// The chunk index of a release artifact (docs/delta-updates.md): its content-defined chunks in
// order, each as its length and SHA-256. `sluice release sign` makes it and puts its own
// SHA-256 and size into the signed manifest (`chunkIndex`), so an index that does not match
// the release keys' word is refused before it is believed. Binary, 36 bytes a chunk, because
// every byte of it is downloaded by every device that updates by delta.
//
// Layout (little-endian): "SLUICECI" · u16 format (1) · u16 0 · u32 min · u32 average ·
// u32 max · u32 chunk count · u64 artifact size · u32 length of each chunk · 32-byte SHA-256
// of each chunk. Lengths and digests in two runs, so a reader uses them in place, uncopied.
import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { garbageCollectorEvery } from '../client/garbage.js';
import { Chunker, checkChunkingParameters, defaultChunking, type ChunkingParameters } from './chunking.js';

const magic = Buffer.from('SLUICECI', 'latin1');
const headerSize = 36;
export const chunkIndexFormat = 1;

export class ChunkIndexError extends Error {
  readonly code = 'index_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'ChunkIndexError';
  }
}

export interface ChunkIndex {
  parameters: ChunkingParameters;
  /** The artifact's size: the sum of the chunks' lengths. */
  size: number;
  count: number;
  lengths: Uint32Array;
  /** Where each chunk starts in the artifact. */
  offsets: Float64Array;
  /** count × 32 bytes: chunk i's SHA-256 at i × 32. */
  digests: Buffer;
}

export type ChunkVisitor = (offset: number, length: number, digest: Buffer) => void;

/**
 * Streams the file through the chunker: each chunk's offset, length and SHA-256 go to `visit`,
 * and the whole file's SHA-256 is returned with its size. One 1 MiB buffer, read into again.
 */
export async function chunkFile(
  path: string,
  visit: ChunkVisitor,
  parameters: ChunkingParameters = defaultChunking,
  extra: Hash[] = [],
  options: { wholeDigest?: boolean } = {},
): Promise<{ sha256: string; size: number }> {
  // A seed's whole digest is not needed: one SHA-256 pass fewer.
  const wantWhole = options.wholeDigest ?? true;
  const chunker = new Chunker(parameters);
  // Each chunk's digest is a small buffer outside V8's heap, which V8 does not count as pressure:
  // a gibibyte's quarter of a million of them stayed until collected by hand (client/garbage.ts).
  const collectGarbage = garbageCollectorEvery(4 * 1024 * 1024);
  const whole = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const file = await open(path, 'r');
  // Only a chunk that spans two reads is hashed in parts; the others in one call, without a
  // Hash object each (16384 chunks of 4 KiB: 206-215 ms against 230-375 ms, measured).
  let carried: Hash | null = null;
  let chunkStart = 0;
  let size = 0;
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const data = buffer.subarray(0, bytesRead);
      collectGarbage(bytesRead);
      if (wantWhole) whole.update(data);
      for (const hash of extra) hash.update(data);
      let from = 0;
      for (const cut of chunker.cuts(data)) {
        const end = size + cut;
        const digest: Buffer = carried
          ? carried.update(data.subarray(from, cut)).digest()
          : (hashOnce('sha256', data.subarray(from, cut), 'buffer') as unknown as Buffer);
        carried = null;
        visit(chunkStart, end - chunkStart, digest);
        chunkStart = end;
        from = cut;
      }
      if (from < bytesRead) (carried ??= createHash('sha256')).update(data.subarray(from));
      size += bytesRead;
    }
  } finally {
    await file.close();
  }
  if (chunker.finish()) visit(chunkStart, size - chunkStart, (carried ?? createHash('sha256')).digest());
  return { sha256: whole.digest('hex'), size };
}

/** The index of the file at `path`, with the file's own digest (one read for both). */
export async function buildChunkIndex(
  path: string,
  parameters: ChunkingParameters = defaultChunking,
): Promise<{ index: Buffer; sha256: string; size: number }> {
  const lengths: Buffer[] = [];
  const digests: Buffer[] = [];
  let count = 0;
  const result = await chunkFile(
    path,
    (_offset, length, digest) => {
      const entry = Buffer.allocUnsafe(4);
      entry.writeUInt32LE(length, 0);
      lengths.push(entry);
      digests.push(digest);
      count++;
    },
    parameters,
  );
  const header = Buffer.alloc(headerSize);
  magic.copy(header, 0);
  header.writeUInt16LE(chunkIndexFormat, 8);
  header.writeUInt32LE(parameters.minSize, 12);
  header.writeUInt32LE(parameters.averageSize, 16);
  header.writeUInt32LE(parameters.maxSize, 20);
  header.writeUInt32LE(count, 24);
  header.writeBigUInt64LE(BigInt(result.size), 28);
  return { index: Buffer.concat([header, ...lengths, ...digests]), ...result };
}

/** Reads an index, refusing anything malformed; `expectedSize` is the manifest's artifact size. */
export function parseChunkIndex(bytes: Buffer, expectedSize?: number): ChunkIndex {
  const fail = (why: string): never => {
    throw new ChunkIndexError(`the chunk index ${why}`);
  };
  if (bytes.length < headerSize || !bytes.subarray(0, 8).equals(magic)) fail('does not start with SLUICECI');
  if (bytes.readUInt16LE(8) !== chunkIndexFormat) fail(`has format ${bytes.readUInt16LE(8)}; this agent reads ${chunkIndexFormat}`);
  const parameters = { minSize: bytes.readUInt32LE(12), averageSize: bytes.readUInt32LE(16), maxSize: bytes.readUInt32LE(20) };
  try {
    checkChunkingParameters(parameters);
  } catch (error) {
    fail(`has unusable chunk sizes: ${(error as Error).message}`);
  }
  const count = bytes.readUInt32LE(24);
  const size = Number(bytes.readBigUInt64LE(28));
  if (!Number.isSafeInteger(size)) fail('names an impossible size');
  if (expectedSize !== undefined && size !== expectedSize) fail(`describes ${size} bytes; the manifest's artifact has ${expectedSize}`);
  if (bytes.length !== headerSize + count * 36) fail(`has ${bytes.length} bytes; ${count} chunks need ${headerSize + count * 36}`);
  const lengthsAt = headerSize;
  const digestsAt = headerSize + count * 4;
  const lengths = new Uint32Array(count);
  const offsets = new Float64Array(count);
  let offset = 0;
  for (let index = 0; index < count; index++) {
    const length = bytes.readUInt32LE(lengthsAt + index * 4);
    if (length === 0 || length > parameters.maxSize) fail(`has a chunk of ${length} bytes at ${index}`);
    lengths[index] = length;
    offsets[index] = offset;
    offset += length;
  }
  // A view, not a copy: an index of a gibibyte's image holds 8 MiB of digests.
  const digests = bytes.subarray(digestsAt, digestsAt + count * 32);
  if (offset !== size) fail(`chunks add up to ${offset} bytes, not ${size}`);
  return { parameters, size, count, lengths, offsets, digests };
}
