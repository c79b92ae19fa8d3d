// The chunk pack of a release artifact (docs/delta-updates.md): every chunk of the artifact,
// in order, each compressed on its own with brotli, so that a plain Range request of the pack
// (to the server, nginx or a pre-signed S3 URL) brings compressed chunks, and a device
// decompresses each by itself. A chunk that brotli does not shrink is stored as it is: its
// packed length is then its length, which is how a reader tells the two apart. Where each
// chunk sits in the pack is in the signed chunk index (chunk-index.ts), and every chunk is
// checked against the index's digest after it is unpacked.
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

/**
 * Quality 5 with a 64 KiB window: on the 256 MiB ext4 pair, the changed chunks packed to
 * 3.853 MiB at quality 5 and 3.850 at 9 (deflate -9: 3.928), and 5 is the faster to sign
 * (BENCHMARKS.md, "Delta updates"). A chunk is at most 64 KiB, so a larger window buys nothing.
 */
const compressOptions = (length: number) => ({
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 5,
    [constants.BROTLI_PARAM_LGWIN]: 16,
    [constants.BROTLI_PARAM_SIZE_HINT]: length,
  },
});

/** The chunk as stored in the pack: compressed, or itself when compressing does not shrink it. */
export function packChunk(data: Buffer): Buffer {
  const packed = brotliCompressSync(data, compressOptions(data.length));
  return packed.length < data.length ? packed : data;
}

/**
 * Packs chunks in order, compressing a chunk seen before only once. A filesystem image repeats a
 * few chunks thousands of times (free space is zeros, 16 KiB chunks of them), and each brotli
 * call costs about 100-200 µs however little it has to do: signing a sparse gibibyte of zeros
 * took 50 s of compressing the same chunk 65,536 times. Only chunks that pack small are kept
 * (at most `remembered` of at most 64 bytes each, 256 KiB in all); others are rarely repeated.
 */
export class ChunkPacker {
  private readonly seen = new Map<string, Buffer>();
  constructor(private readonly remembered = 4096) {}

  /** `digest`: the chunk's SHA-256, its name among the chunks seen. */
  pack(data: Buffer, digest: Buffer): Buffer {
    const key = digest.toString('base64');
    const known = this.seen.get(key);
    if (known !== undefined) return known;
    const packed = packChunk(data);
    if (packed !== data && packed.length <= 64 && this.seen.size < this.remembered) this.seen.set(key, packed);
    return packed;
  }
}

export class ChunkPackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkPackError';
  }
}

/**
 * The chunk from its packed bytes. The output is bounded by the signed length: a stream that
 * would inflate past it (a zip bomb) stops there and is refused, as is one that ends short.
 */
export function unpackChunk(packed: Buffer, length: number): Buffer {
  if (packed.length === length) return packed;
  if (packed.length > length) throw new ChunkPackError(`a packed chunk of ${packed.length} bytes for ${length} bytes of data`);
  let data: Buffer;
  try {
    data = brotliDecompressSync(packed, { maxOutputLength: length });
  } catch (error) {
    throw new ChunkPackError(`a packed chunk does not unpack to ${length} bytes: ${(error as Error).message}`);
  }
  if (data.length !== length) throw new ChunkPackError(`a packed chunk unpacks to ${data.length} bytes, not ${length}`);
  return data;
}
