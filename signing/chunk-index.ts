// The chunk index of a release artifact (docs/delta-updates.md): its content-defined chunks in
// order, each as its length, its packed length in the chunk pack (chunk-pack.ts) and the first
// bytes of its SHA-256. `sluice release sign` makes it and puts its own SHA-256 and size into
// the signed manifest (`chunkIndex`), so an index that does not match the release keys' word
// is refused before it is believed. Binary, 16 bytes a chunk, because every byte of it is
// downloaded by every device that updates by delta.
//
// Layout (little-endian), format 2: "SLUICECI" · u16 format (2) · u16 digest bytes · u32 min ·
// u32 average · u32 max · u32 chunk count · u64 artifact size · u64 pack size · u16 length of
// each chunk · u16 packed length of each chunk · the digest of each chunk. Runs of one kind, so
// a reader uses the lengths and digests in place, uncopied. Format 1 (32-byte digests, raw ranges
// of the artifact, no pack) is no longer read: no fleet ran it, and an agent that meets one
// downloads the whole artifact.
//
// Why a digest of 12 bytes is enough: it is not what makes an install safe. The whole image
// is checked against the signed manifest's size and full SHA-256 before it is staged. A
// chunk's digest finds the seed's copy of it, catches a lying store's chunk early (to fall
// back before more is fetched) and tells a restart which chunks on disk are good; a chunk
// that matched falsely (by chance about 2^-96 a pair, by design a second preimage of 96 bits)
// fails the whole image's check, and the agent downloads the artifact whole.
import { createHash, hash as hashOnce } from 'node:crypto';
import { open } from 'node:fs/promises';
import { garbageCollectorEvery } from '../client/garbage.js';
import { Chunker, checkChunkingParameters, defaultChunking, type ChunkingParameters } from './chunking.js';
import { ChunkPacker } from './chunk-pack.js';

const magic = Buffer.from('SLUICECI', 'latin1');
const headerSize = 44;
export const chunkIndexFormat = 2;
/** Bytes of each chunk's SHA-256 kept in the index (the reason is above). */
export const digestBytes = 12;
/** Lengths are stored in 16 bits: no chunk of a format-2 index is longer. */
export const largestChunk = 65535;

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
  /** A view of the index's bytes where the machine is little-endian (a copy elsewhere). */
  lengths: Uint16Array;
  /** Where each chunk starts in the artifact: 32 bits each below 4 GiB, else 64. */
  offsets: Offsets;
  /** Bytes of each digest (the first bytes of the chunk's SHA-256). */
  digestBytes: number;
  /** count × digestBytes: chunk i's digest at i × digestBytes. */
  digests: Buffer;
  /** The chunk pack's size, and each chunk's length and place in it. */
  packSize: number;
  packLengths: Uint16Array;
  packOffsets: Offsets;
}

export type Offsets = Uint32Array | Float64Array;

/** Room for offsets up to `size`: half the memory for every image below 4 GiB (a gibibyte's index: 0.9 MiB less each). */
export const offsetsFor = (size: number, count: number): Offsets => (size < 2 ** 32 ? new Uint32Array(count) : new Float64Array(count));

/** `count` little-endian u16 at `at`: the bytes themselves where they can be, else a copy. */
function u16s(bytes: Buffer, at: number, count: number): Uint16Array {
  if (littleEndian && (bytes.byteOffset + at) % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset + at, count);
  const copy = new Uint16Array(count);
  for (let index = 0; index < count; index++) copy[index] = bytes.readUInt16LE(at + index * 2);
  return copy;
}
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const readSize = 512 * 1024;

/** `data` is the chunk's bytes, valid only during the call. */
export type ChunkVisitor = (offset: number, length: number, digest: Buffer, data: Buffer) => void;

/**
 * Streams the file through the chunker: each chunk's offset, length, SHA-256 and bytes go to
 * `visit`, and the whole file's SHA-256 is returned with its size. Two 512 KiB buffers: the
 * next read runs on libuv's threads while this one is chunked and hashed (one buffer left this
 * thread waiting on each read, 168 ms of a 256 MiB seed's 0.78 s, BENCHMARKS.md), and one of a
 * chunk's largest size for the chunk that spans two reads.
 */
export async function chunkFile(
  path: string,
  visit: ChunkVisitor,
  parameters: ChunkingParameters = defaultChunking,
  options: { wholeDigest?: boolean } = {},
): Promise<{ sha256: string; size: number }> {
  // A seed's whole digest is not needed: one SHA-256 pass fewer.
  const wantWhole = options.wholeDigest ?? true;
  const chunker = new Chunker(parameters);
  // Each chunk's digest is a small buffer outside V8's heap, which V8 does not count as pressure:
  // a gibibyte's quarter of a million of them stayed until collected by hand (client/garbage.ts).
  const collectGarbage = garbageCollectorEvery(4 * 1024 * 1024);
  const whole = createHash('sha256');
  const buffers = [Buffer.allocUnsafe(readSize), Buffer.allocUnsafe(readSize)];
  const carry = Buffer.allocUnsafe(parameters.maxSize);
  let carried = 0;
  const file = await open(path, 'r');
  let chunkStart = 0;
  let size = 0;
  const emit = (data: Buffer) => {
    // Hashed in one call, without a Hash object each (16384 chunks of 4 KiB: 206-215 ms against 230-375 ms, measured).
    visit(chunkStart, data.length, hashOnce('sha256', data, 'buffer') as unknown as Buffer, data);
    chunkStart += data.length;
  };
  let reading = file.read(buffers[0], 0, readSize, 0);
  try {
    for (let turn = 1; ; turn++) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      const data = buffer.subarray(0, bytesRead);
      reading = file.read(buffers[turn % 2], 0, readSize, size + bytesRead);
      collectGarbage(bytesRead);
      if (wantWhole) whole.update(data);
      let from = 0;
      for (const cut of chunker.cuts(data)) {
        if (carried > 0) {
          // Only a chunk that spans two reads is copied, to hand it over whole.
          data.copy(carry, carried, from, cut);
          emit(carry.subarray(0, carried + cut - from));
          carried = 0;
        } else emit(data.subarray(from, cut));
        from = cut;
      }
      if (from < bytesRead) carried += data.copy(carry, carried, from);
      size += bytesRead;
    }
  } finally {
    // A read still running (after a visitor's throw) must end before its file is closed.
    await reading.catch(() => {});
    await file.close();
  }
  if (chunker.finish()) emit(carry.subarray(0, carried));
  return { sha256: whole.digest('hex'), size };
}

/**
 * The index of the file at `path`, with the file's own digest (one read for all). With
 * `pack`, each chunk is compressed and `pack` is called with the packed bytes in order (the
 * chunk pack); without it, the index describes a pack that stores every chunk as it is.
 */
export async function buildChunkIndex(
  path: string,
  options: { parameters?: ChunkingParameters; pack?: (packed: Buffer) => void } = {},
): Promise<{ index: Buffer; sha256: string; size: number; packSize: number }> {
  const parameters = options.parameters ?? defaultChunking;
  if (parameters.maxSize > largestChunk) throw new RangeError(`a chunk index holds chunks of at most ${largestChunk} bytes`);
  const lengths: Buffer[] = [];
  const packLengths: Buffer[] = [];
  const digests: Buffer[] = [];
  let count = 0;
  let packSize = 0;
  const packer = new ChunkPacker();
  const entry = (value: number) => {
    const bytes = Buffer.allocUnsafe(2);
    bytes.writeUInt16LE(value, 0);
    return bytes;
  };
  const result = await chunkFile(
    path,
    (_offset, length, digest, data) => {
      lengths.push(entry(length));
      digests.push(digest.subarray(0, digestBytes));
      let packed = length;
      if (options.pack) {
        const bytes = packer.pack(data, digest);
        options.pack(bytes === data ? Buffer.from(data) : bytes);
        packed = bytes.length;
      }
      packLengths.push(entry(packed));
      packSize += packed;
      count++;
    },
    parameters,
  );
  const header = Buffer.alloc(headerSize);
  magic.copy(header, 0);
  header.writeUInt16LE(chunkIndexFormat, 8);
  header.writeUInt16LE(digestBytes, 10);
  header.writeUInt32LE(parameters.minSize, 12);
  header.writeUInt32LE(parameters.averageSize, 16);
  header.writeUInt32LE(parameters.maxSize, 20);
  header.writeUInt32LE(count, 24);
  header.writeBigUInt64LE(BigInt(result.size), 28);
  header.writeBigUInt64LE(BigInt(packSize), 36);
  return { index: Buffer.concat([header, ...lengths, ...packLengths, ...digests]), ...result, packSize };
}

/**
 * The same index for a pack that stores every chunk as it is: that pack is the artifact itself,
 * byte for byte, so nothing beside the artifact need be stored or uploaded (chunk-pack-file.ts).
 */
export function storedAsIs(index: Buffer): Buffer {
  const copy = Buffer.from(index);
  const count = copy.readUInt32LE(24);
  copy.copy(copy, headerSize + count * 2, headerSize, headerSize + count * 2);
  copy.writeBigUInt64LE(copy.readBigUInt64LE(28), 36);
  return copy;
}

/** Reads an index, refusing anything malformed; `expectedSize` is the manifest's artifact size. */
export function parseChunkIndex(bytes: Buffer, expectedSize?: number): ChunkIndex {
  const fail = (why: string): never => {
    throw new ChunkIndexError(`the chunk index ${why}`);
  };
  if (bytes.length < headerSize || !bytes.subarray(0, 8).equals(magic)) fail('does not start with SLUICECI');
  if (bytes.readUInt16LE(8) !== chunkIndexFormat) fail(`has format ${bytes.readUInt16LE(8)}; this agent reads ${chunkIndexFormat}`);
  const width = bytes.readUInt16LE(10);
  if (width < 8 || width > 32) fail(`keeps ${width} bytes of each digest; 8 to 32 are usable`);
  const parameters = { minSize: bytes.readUInt32LE(12), averageSize: bytes.readUInt32LE(16), maxSize: bytes.readUInt32LE(20) };
  try {
    checkChunkingParameters(parameters);
  } catch (error) {
    fail(`has unusable chunk sizes: ${(error as Error).message}`);
  }
  if (parameters.maxSize > largestChunk) fail(`has chunks of up to ${parameters.maxSize} bytes; at most ${largestChunk} fit`);
  const count = bytes.readUInt32LE(24);
  const size = Number(bytes.readBigUInt64LE(28));
  const packSize = Number(bytes.readBigUInt64LE(36));
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(packSize)) fail('names an impossible size');
  if (expectedSize !== undefined && size !== expectedSize) fail(`describes ${size} bytes; the manifest's artifact has ${expectedSize}`);
  const entry = 4 + width;
  if (bytes.length !== headerSize + count * entry) fail(`has ${bytes.length} bytes; ${count} chunks need ${headerSize + count * entry}`);
  const lengthsAt = headerSize;
  const packLengthsAt = headerSize + count * 2;
  const digestsAt = headerSize + count * 4;
  const lengths = u16s(bytes, lengthsAt, count);
  const packLengths = u16s(bytes, packLengthsAt, count);
  const offsets = offsetsFor(size, count);
  const packOffsets = offsetsFor(packSize, count);
  let offset = 0;
  let packOffset = 0;
  for (let index = 0; index < count; index++) {
    const length = lengths[index];
    const packed = packLengths[index];
    if (length === 0 || length > parameters.maxSize) fail(`has a chunk of ${length} bytes at ${index}`);
    // Stored as it is, or compressed to fewer bytes: never more, never none.
    if (packed === 0 || packed > length) fail(`packs chunk ${index} of ${length} bytes into ${packed}`);
    // Checked before they are stored: a lying header cannot overflow 32-bit offsets.
    if (offset + length > size || packOffset + packed > packSize) fail(`has chunks past the sizes it names, at ${index}`);
    offsets[index] = offset;
    packOffsets[index] = packOffset;
    offset += length;
    packOffset += packed;
  }
  // A view, not a copy: an index of a gibibyte's image holds 3 MiB of digests.
  const digests = bytes.subarray(digestsAt, digestsAt + count * width);
  if (offset !== size) fail(`chunks add up to ${offset} bytes, not ${size}`);
  if (packOffset !== packSize) fail(`packed chunks add up to ${packOffset} bytes, not the pack's ${packSize}`);
  return { parameters, size, count, lengths, offsets, digestBytes: width, digests, packSize, packLengths, packOffsets };
}
