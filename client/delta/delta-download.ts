// The delta download (docs/delta-updates.md): the new image is written, in order, into the
// same partial file a full download uses, from the seed's chunks where it has them and from
// Range requests where it does not. Only verified bytes reach the file: each downloaded chunk
// is checked against the signed index before it is written, and the whole image against the
// manifest's size and SHA-256 at the end. So a restart (even after SIGKILL) resumes from the
// file's verified chunks, and the full download can take over from the same bytes.
import { createHash, type Hash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { AgentError } from '../errors.js';
import { getArtifact } from '../artifact-get.js';
import { garbageCollectorEvery } from '../garbage.js';
import { parseChunkIndex, ChunkIndexError, type ChunkIndex } from '../../signing/chunk-index.js';
import { bytesToFetch, planOperations, type Operation } from './plan.js';
import { DeltaUnusable, RangeFetcher } from './range-fetch.js';
import { deltaPaths } from './paths.js';
import type { Seed } from './seed.js';

export interface DeltaTarget {
  artifactUrl: string;
  indexUrl: string;
  server: string;
  token: string;
  size: number;
  sha256: string;
  chunkIndex: { sha256: string; size: number };
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

const blockSize = 1024 * 1024;
const killAfterRequests = Number(process.env.SLUICE_DELTA_KILL_AFTER_REQUESTS ?? -1);

export async function deltaDownload(
  target: DeltaTarget,
  chooseSeed: SeedChooser,
  log: (line: string) => void = () => {},
): Promise<DeltaResult> {
  const paths = deltaPaths(target.dataDir, target.sha256);
  mkdirSync(dirname(paths.partial), { recursive: true });
  let downloaded = previousBytes(paths.delivery);
  const record = () => writeFileSync(paths.delivery, JSON.stringify({ method: 'delta', bytesDownloaded: downloaded }));

  const loaded = await loadIndex(target, paths.index);
  downloaded += loaded.fetched;
  record();
  const index = loaded.index;
  log(`delta: index of ${index.count} chunks ready`);
  const seed = await chooseSeed(index);
  log(`delta: seed ${seed?.path ?? 'none'} ready`);
  if (!seed) throw new DeltaUnusable('no_seed', 'no seed image to build the update from');

  const whole = createHash('sha256');
  const file = openSync(paths.partial, existsSync(paths.partial) ? 'r+' : 'w+');
  const seedFile = openSync(seed.path, 'r');
  const fetcher = new RangeFetcher({ url: target.artifactUrl, server: target.server, token: target.token });
  let reused = 0;
  let requests = 0;
  try {
    const first = verifiedPrefix(file, index, whole);
    ftruncateSync(file, first < index.count ? index.offsets[first] : index.size);
    if (first > 0) log(`delta: resuming at chunk ${first} of ${index.count}`);
    const operations = planOperations(index, seed, first);
    // A delta that would fetch nearly everything (a compressed image) saves nothing and costs
    // a request per range: the plain download is better (its bytes resume from here).
    if (first === 0 && bytesToFetch(operations) > index.size * 0.9)
      throw new DeltaUnusable('no_saving', `the seed shares less than 10 % of the new image`);
    // One count over all the ranges: thousands of small answers each leave socket buffers
    // behind (BENCHMARKS.md: a 1 GiB delta peaked at 138 MiB while each range counted alone).
    const collectGarbage = garbageCollectorEvery(4 * 1024 * 1024);
    const pending = Buffer.allocUnsafe(index.parameters.maxSize);
    const writer = new SequentialWriter(file, first < index.count ? index.offsets[first] : index.size, whole);
    try {
      for (const operation of operations) {
        if (operation.kind === 'copy') {
          copyFromSeed(seedFile, operation, writer);
          reused += operation.length;
          continue;
        }
        // Fault injection for the crash tests: a real SIGKILL after this many range requests.
        if (requests === killAfterRequests) process.kill(process.pid, 'SIGKILL');
        requests++;
        const before = fetcher.received;
        try {
          await fetchChunks(fetcher, index, operation, writer, collectGarbage, pending);
        } finally {
          downloaded += fetcher.received - before;
          writer.flush();
          record();
        }
      }
    } finally {
      // Everything in the writer has been verified chunk by chunk: it belongs in the file.
      writer.flush();
    }
    fsyncSync(file);
  } finally {
    fetcher.close();
    closeSync(seedFile);
    closeSync(file);
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
  return { bytesDownloaded: downloaded, bytesReused: reused, requests };
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
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const data of response as AsyncIterable<Buffer>) {
      length += data.length;
      // Endless data: never more than the signed size.
      if (length > target.chunkIndex.size) {
        response.destroy();
        break;
      }
      parts.push(data);
    }
  } catch (error) {
    throw new AgentError('download_failed', `the chunk index broke off: ${(error as Error).message}`);
  }
  const bytes = Buffer.concat(parts);
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

/** How many chunks at the file's start are whole and verify (fed to `whole`); a restart continues after them. */
function verifiedPrefix(file: number, index: ChunkIndex, whole: Hash): number {
  const have = fstatSync(file).size;
  const buffer = Buffer.allocUnsafe(index.parameters.maxSize);
  let chunk = 0;
  while (chunk < index.count && index.offsets[chunk] + index.lengths[chunk] <= have) {
    const length = index.lengths[chunk];
    readExactly(file, buffer, length, index.offsets[chunk]);
    const data = buffer.subarray(0, length);
    if (
      !createHash('sha256')
        .update(data)
        .digest()
        .equals(index.digests.subarray(chunk * 32, chunk * 32 + 32))
    )
      break;
    whole.update(data);
    chunk++;
  }
  return chunk;
}

function readExactly(file: number, buffer: Buffer, length: number, position: number, offset = 0): void {
  let done = 0;
  while (done < length) {
    const read = readSync(file, buffer, offset + done, length - done, position + done);
    if (read === 0) throw new DeltaUnusable('seed_changed', `the file ended at ${position + done} while reading`);
    done += read;
  }
}

function copyFromSeed(seedFile: number, operation: Extract<Operation, { kind: 'copy' }>, writer: SequentialWriter): void {
  for (let done = 0; done < operation.length;) {
    const length = Math.min(blockSize, operation.length - done);
    writer.appendFrom((buffer, offset) => readExactly(seedFile, buffer, length, operation.from + done, offset), length);
    done += length;
  }
}

async function fetchChunks(
  fetcher: RangeFetcher,
  index: ChunkIndex,
  operation: Extract<Operation, { kind: 'fetch' }>,
  writer: SequentialWriter,
  collectGarbage: (bytes: number) => void,
  pending: Buffer,
): Promise<void> {
  let chunk = operation.first;
  let filled = 0;
  await fetcher.fetch(operation.start, operation.end, (data) => {
    for (let used = 0; used < data.length;) {
      const want = index.lengths[chunk] - filled;
      const take = Math.min(want, data.length - used);
      data.copy(pending, filled, used, used + take);
      filled += take;
      used += take;
      if (filled < index.lengths[chunk]) continue;
      const bytes = pending.subarray(0, filled);
      if (
        !createHash('sha256')
          .update(bytes)
          .digest()
          .equals(index.digests.subarray(chunk * 32, chunk * 32 + 32))
      ) {
        throw new DeltaUnusable(
          'chunk_mismatch',
          `chunk ${chunk} (bytes ${index.offsets[chunk]}-${index.offsets[chunk] + filled - 1}) does not match the signed index`,
        );
      }
      writer.append(bytes);
      chunk++;
      filled = 0;
    }
    collectGarbage(data.length);
  });
}

/** Appends to the file through one 1 MiB buffer, feeding the image's digest on the way. */
class SequentialWriter {
  private readonly buffer = Buffer.allocUnsafe(blockSize);
  private used = 0;

  constructor(
    private readonly file: number,
    private position: number,
    private readonly whole: Hash,
  ) {}

  append(data: Buffer): void {
    this.appendFrom((buffer, offset) => data.copy(buffer, offset), data.length);
  }

  /** `fill` writes `length` bytes (at most 1 MiB) into the buffer at `offset`. */
  appendFrom(fill: (buffer: Buffer, offset: number) => void, length: number): void {
    if (this.used + length > this.buffer.length) this.flush();
    fill(this.buffer, this.used);
    this.whole.update(this.buffer.subarray(this.used, this.used + length));
    this.used += length;
  }

  flush(): void {
    let done = 0;
    while (done < this.used) done += writeSync(this.file, this.buffer, done, this.used - done, this.position + done);
    this.position += this.used;
    this.used = 0;
  }
}
