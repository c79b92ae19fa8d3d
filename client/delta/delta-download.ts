// The delta download (docs/delta-updates.md): the new image is written, in order, into the
// same partial file a full download uses, from the seed's chunks where it has them and from
// Range requests of the chunk pack (compressed chunks) where it does not, a few of them in flight ahead of the writer
// (range-queue.ts). Only verified bytes reach the file: each downloaded chunk is checked
// against the signed index before it is written, and the whole image against the manifest's
// size and SHA-256 at the end, hashed on the way in. So a restart (even after SIGKILL) resumes
// from the file's verified chunks, and the full download can take over from the same bytes.
import { createHash, hash, type Hash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentError } from '../errors.js';
import { getArtifact } from '../artifact-get.js';
import { collectAllGarbage, collectYoungGarbage, garbageCollectorEvery } from '../garbage.js';
import { parseChunkIndex, ChunkIndexError, type ChunkIndex } from '../../signing/chunk-index.js';
import { ChunkPackError, unpackChunk } from '../../signing/chunk-pack.js';
import { bytesToFetch, planOperations } from './plan.js';
import { DeltaUnusable, RangeFetcher } from './range-fetch.js';
import { defaultConcurrency, defaultPieceBytes, piecesOf, RangeQueue, type Piece } from './range-queue.js';
import { ImageWriter } from './image-writer.js';
import { deltaPaths } from './paths.js';
import type { Seed } from './seed.js';

export interface DeltaTarget {
  indexUrl: string;
  /** The chunk pack's URL: the ranges are fetched from it, compressed. */
  packUrl: string;
  server: string;
  token: string;
  size: number;
  sha256: string;
  chunkIndex: { sha256: string; size: number };
  chunkPack: { sha256: string; size: number };
  dataDir: string;
}

export interface DeltaResult {
  /** Bytes fetched for this artifact so far, across restarts: the index and the ranges. */
  bytesDownloaded: number;
  /** Bytes taken from the seed in this run. */
  bytesReused: number;
  requests: number;
}

/** Where the bytes come from: chooses a seed once the index (and its chunk sizes) is known. */
export type SeedChooser = (index: ChunkIndex) => Promise<Seed | null>;

const killAfterRequests = Number(process.env.SLUICE_DELTA_KILL_AFTER_REQUESTS ?? -1);

export async function deltaDownload(
  target: DeltaTarget,
  chooseSeed: SeedChooser,
  log: (line: string) => void = () => {},
): Promise<DeltaResult> {
  const paths = deltaPaths(target.dataDir, target.sha256);
  mkdirSync(dirname(paths.partial), { recursive: true });
  const earlier = previousBytes(paths.delivery);
  let downloaded = earlier;
  const record = () => writeFileSync(paths.delivery, JSON.stringify({ method: 'delta', bytesDownloaded: downloaded }));

  const loaded = await loadIndex(target, paths.index);
  // The index arrived as some 60 socket buffers of 64 KiB for a gibibyte's image, garbage now:
  // freed before the seed's arrays are made rather than whenever V8 gets to them.
  collectYoungGarbage();
  downloaded += loaded.fetched;
  record();
  const index = loaded.index;
  if (index.packSize !== target.chunkPack.size)
    throw new DeltaUnusable(
      'index_invalid',
      `the index places ${index.packSize} bytes of pack; the manifest signs ${target.chunkPack.size}`,
    );
  log(`delta: index of ${index.count} chunks ready`);
  const whole = createHash('sha256');
  const { seedPath, first, operations } = await plan(index, chooseSeed, paths.partial, whole, log);
  // A delta that would fetch nearly everything (a compressed image) saves nothing and costs
  // a request per range: the plain download is better (its bytes resume from here).
  if (first === 0 && bytesToFetch(operations) > target.size * 0.9)
    throw new DeltaUnusable('no_saving', `the seed shares less than 10 % of the new image`);
  collectAllGarbage();
  log(`delta: ${operations.length} operations planned`);

  const file = await open(paths.partial, 'r+');
  const seedFile = await open(seedPath, 'r');
  const fetcher = new RangeFetcher({ url: target.packUrl, server: target.server, token: target.token }, defaultConcurrency);
  const queue = new RangeQueue(fetcher, piecesOf(operations, index, defaultPieceBytes));
  const writer = new ImageWriter(file, first < index.count ? index.offsets[first] : index.size, whole);
  // One count over all the answers: thousands of small ones each leave socket buffers behind.
  const collectGarbage = garbageCollectorEvery(4 * 1024 * 1024);
  // The count reaches the disk at most twice a second: rewriting a file costs an implicit flush
  // on ext4 (2.5 ms each, measured; a record per range was a quarter of a 32 MiB rebuild), and
  // a SIGKILL loses at most that half second of the count, never a byte of the image.
  let recordedAt = 0;
  const count = (force = false) => {
    downloaded = earlier + loaded.fetched + fetcher.received;
    if (!force && performance.now() - recordedAt < 500) return;
    record();
    recordedAt = performance.now();
  };
  let reused = 0;
  let pieces = 0;
  try {
    try {
      for (const operation of operations) {
        if (operation.kind === 'copy') {
          await writer.appendFromFile(seedFile, operation.from, operation.length);
          reused += operation.length;
          continue;
        }
        for (let chunk = operation.first; chunk <= operation.last;) {
          const next = await queue.next();
          if (!next) throw new Error('the range queue ended before the plan');
          await writeVerified(index, next.piece, next.bytes, writer);
          chunk = next.piece.last + 1;
          collectGarbage(next.bytes.length);
          queue.release();
          pieces++;
          // Fault injection for the crash tests: a real SIGKILL once this many pieces are on disk.
          if (pieces === killAfterRequests) {
            await writer.finish();
            count(true);
            process.kill(process.pid, 'SIGKILL');
          }
        }
        await writer.flush();
        count();
      }
    } finally {
      count(true);
      // Everything in the writer has been verified chunk by chunk: it belongs in the file.
      await writer.finish();
    }
    // Durable before the journal says `downloaded`, as a full download is (client/download.ts).
    // Flushing in the background every 32 MiB instead cost as much (the writes waited for it).
    await file.sync();
  } finally {
    fetcher.close();
    await seedFile.close();
    await file.close();
  }
  const size = statSync(paths.partial).size;
  const sha256 = whole.digest('hex');
  if (size !== target.size || sha256 !== target.sha256) {
    // Every chunk matched the signed index, yet the image does not: the seed changed under us
    // or the index was signed wrongly. Nothing of it is kept.
    truncateSync(paths.partial, 0);
    throw new DeltaUnusable(
      'image_mismatch',
      `the rebuilt image has ${size} bytes and sha256 ${sha256}; the manifest says ${target.size} and ${target.sha256}`,
    );
  }
  return { bytesDownloaded: downloaded, bytesReused: reused, requests: queue.requests };
}

/**
 * The seed's chunks and what to do with each of the new image's. The seed's lookup (5 MiB of
 * arrays for a gibibyte's seed) is needed only to plan: it is let go here, and collected once
 * the plan stands, rather than held through the rebuild (a heap snapshot mid-rebuild shows it
 * gone; the process's high-water mark is set later, by the rebuild, BENCHMARKS.md).
 */
async function plan(index: ChunkIndex, chooseSeed: SeedChooser, partial: string, whole: Hash, log: (line: string) => void) {
  const seed = await chooseSeed(index);
  log(`delta: seed ${seed?.path ?? 'none'} ready`);
  if (!seed) throw new DeltaUnusable('no_seed', 'no seed image to build the update from');
  const first = resumePoint(partial, index, whole);
  if (first > 0) log(`delta: resuming at chunk ${first} of ${index.count}`);
  const operations = planOperations(index, seed, first);
  return { seedPath: seed.path, first, operations };
}

function previousBytes(path: string): number {
  try {
    const value = (JSON.parse(readFileSync(path, 'utf8')) as { bytesDownloaded?: unknown }).bytesDownloaded;
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
  } catch {
    return 0;
  }
}

/** The index, from the earlier attempt's verified copy or from the server; its digest must be the manifest's. */
async function loadIndex(target: DeltaTarget, path: string): Promise<{ index: ChunkIndex; fetched: number }> {
  const check = (bytes: Buffer) =>
    bytes.length === target.chunkIndex.size && createHash('sha256').update(bytes).digest('hex') === target.chunkIndex.sha256;
  if (existsSync(path)) {
    const kept = readFileSync(path);
    if (check(kept)) return { index: parse(kept, target.size), fetched: 0 };
  }
  let answer;
  try {
    answer = await getArtifact({
      url: target.indexUrl,
      server: target.server,
      token: target.token,
      headers: {},
      headersTimeoutMs: 30_000,
      bodyTimeoutMs: 60_000,
    });
  } catch (error) {
    throw new AgentError('download_failed', `cannot reach the chunk index: ${(error as Error).message}`);
  }
  const response = answer.response;
  if (response.statusCode !== 200) {
    response.resume();
    throw new DeltaUnusable('index_unavailable', `the server answered ${response.statusCode} for the chunk index`);
  }
  // Read into one buffer of the signed size: no list of parts and no concatenated copy beside
  // it (a gibibyte's index is 9 MiB; the two cost 18 MiB at the peak).
  const received = Buffer.allocUnsafe(target.chunkIndex.size);
  let length = 0;
  try {
    for await (const data of response as AsyncIterable<Buffer>) {
      // Endless data: never more than the signed size.
      if (length + data.length > received.length) {
        length += data.length;
        response.destroy();
        break;
      }
      data.copy(received, length);
      length += data.length;
    }
  } catch (error) {
    throw new AgentError('download_failed', `the chunk index broke off: ${(error as Error).message}`);
  }
  const bytes = received.subarray(0, Math.min(length, received.length));
  if (!check(bytes))
    throw new DeltaUnusable(
      'index_mismatch',
      `the chunk index (${length} bytes) does not match the manifest's sha256 ${target.chunkIndex.sha256} and size ${target.chunkIndex.size}`,
    );
  const index = parse(bytes, target.size);
  writeFileSync(path, bytes);
  return { index, fetched: length };
}

function parse(bytes: Buffer, size: number): ChunkIndex {
  try {
    return parseChunkIndex(bytes, size);
  } catch (error) {
    if (error instanceof ChunkIndexError) throw new DeltaUnusable('index_invalid', error.message);
    throw error;
  }
}

/**
 * How many chunks at the partial file's start are whole and verify (fed to `whole`); the file
 * is cut after them (or made), and a restart continues there.
 */
function resumePoint(path: string, index: ChunkIndex, whole: Hash): number {
  const file = openSync(path, existsSync(path) ? 'r+' : 'w+');
  try {
    const have = fstatSync(file).size;
    const buffer = Buffer.allocUnsafe(index.parameters.maxSize);
    let chunk = 0;
    while (chunk < index.count && index.offsets[chunk] + index.lengths[chunk] <= have) {
      const data = buffer.subarray(0, index.lengths[chunk]);
      readExactly(file, data, index.offsets[chunk]);
      if (!chunkMatches(index, chunk, data)) break;
      whole.update(data);
      chunk++;
    }
    truncateSync(path, chunk < index.count ? index.offsets[chunk] : index.size);
    return chunk;
  } finally {
    closeSync(file);
  }
}

function readExactly(file: number, buffer: Buffer, position: number): void {
  for (let done = 0; done < buffer.length;) {
    const read = readSync(file, buffer, done, buffer.length - done, position + done);
    if (read === 0) throw new DeltaUnusable('seed_changed', `the file ended at ${position + done} while reading`);
    done += read;
  }
}

const chunkMatches = (index: ChunkIndex, chunk: number, data: Buffer) => {
  const width = index.digestBytes;
  return index.digests.compare(hash('sha256', data, 'buffer') as unknown as Buffer, 0, width, chunk * width, chunk * width + width) === 0;
};

/**
 * A downloaded piece of the pack, chunk by chunk: each is unpacked (never past its signed
 * length) and must be the signed index's before it is written.
 */
async function writeVerified(index: ChunkIndex, piece: Piece, bytes: Buffer, writer: ImageWriter): Promise<void> {
  let at = 0;
  for (let chunk = piece.first; chunk <= piece.last; chunk++) {
    const packed = bytes.subarray(at, at + index.packLengths[chunk]);
    const where = `chunk ${chunk} (bytes ${index.offsets[chunk]}-${index.offsets[chunk] + index.lengths[chunk] - 1})`;
    let data: Buffer;
    try {
      data = unpackChunk(packed, index.lengths[chunk]);
    } catch (error) {
      if (error instanceof ChunkPackError) throw new DeltaUnusable('chunk_mismatch', `${where}: ${error.message}`);
      throw error;
    }
    if (!chunkMatches(index, chunk, data)) throw new DeltaUnusable('chunk_mismatch', `${where} does not match the signed index`);
    await writer.append(data);
    at += packed.length;
  }
}
