// What the device already has (docs/delta-updates.md): the chunks of a seed image (the kept
// copy of the last installed artifact, or the running slot's image), found by their SHA-256.
// A seed's chunks come from its own signed index when the agent kept one, else from chunking
// the seed here, with the new index's chunk sizes; the running image's cut is remembered, so it
// is made once (`seedOfSource`). Memory: 18 bytes a chunk (22 from 4 GiB), in typed arrays.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { chunkFile, offsetsFor, parseChunkIndex, type ChunkIndex, type Offsets } from '../../signing/chunk-index.js';
import type { ChunkingParameters } from '../../signing/chunking.js';
import { writeFileAtomically } from '../state-file.js';

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
  const identity = identityOf(path);
  return identity ? seedOf(path, await cut(path, identity.size, parameters)) : null;
}

async function cut(path: string, size: number, parameters: ChunkingParameters): Promise<ChunkKeys> {
  const keys = new ChunkKeys(Math.max(1024, Math.ceil((size / parameters.averageSize) * 1.1)), size);
  await chunkFile(path, (offset, length, digest) => keys.add(offset, length, digest, 0), parameters, { wholeDigest: false });
  return keys;
}

/** Where the running image's cut is remembered: its keys, and what they describe. */
export interface RememberedCut {
  keys: string;
  record: string;
}

interface CutRecord {
  path: string;
  size: number;
  modified: number;
  inode: number;
  parameters: ChunkingParameters;
  count: number;
  sha256: string;
}

type Identity = Pick<CutRecord, 'size' | 'modified' | 'inode'>;

function identityOf(path: string): Identity | null {
  if (!existsSync(path)) return null;
  const stats = statSync(path);
  return stats.isFile() ? { size: stats.size, modified: stats.mtimeMs, inode: stats.ino } : null;
}

/**
 * The running image's seed, cut once: the keys are remembered in the data directory with the
 * file's identity (size, modification time, inode) and the chunk sizes, and the file is cut
 * again only when one of them changed. The agent calls this while idle (fetch-update.ts,
 * `prepareSeed`), so the first update after provisioning does not begin by reading the whole
 * image. Keys that no longer fit the file's bytes (changed in place, clock and size kept) make
 * the rebuilt image fail its check against the manifest: a full download, never a wrong install.
 */
export async function seedOfSource(path: string, parameters: ChunkingParameters, remembered: RememberedCut): Promise<Seed | null> {
  const identity = identityOf(path);
  if (!identity) return null;
  return seedOf(path, recall(path, identity, parameters, remembered) ?? (await cutAndRemember(path, identity, parameters, remembered)));
}

/** `seedOfSource`'s cut made ahead (the agent, while idle): only the record is read when it is already there. */
export async function rememberSourceCut(path: string, parameters: ChunkingParameters, remembered: RememberedCut): Promise<void> {
  const identity = identityOf(path);
  if (identity && !recordOf(path, identity, parameters, remembered)) await cutAndRemember(path, identity, parameters, remembered);
}

async function cutAndRemember(path: string, identity: Identity, parameters: ChunkingParameters, remembered: RememberedCut) {
  const keys = await cut(path, identity.size, parameters);
  const after = identityOf(path);
  // Changed while being read: used this once (the image check judges it), not remembered.
  if (after && sameIdentity(after, identity)) remember(path, identity, parameters, keys, remembered);
  return keys;
}

const sameIdentity = (left: Identity, right: Identity) =>
  left.size === right.size && left.modified === right.modified && left.inode === right.inode;

/**
 * high, low and lengths, one after the other, as this machine lays them out in memory; written
 * from the arrays themselves, not concatenated first (2.6 MiB more at the peak for 1 GiB).
 */
function remember(path: string, identity: Identity, parameters: ChunkingParameters, keys: ChunkKeys, remembered: RememberedCut): void {
  const { count } = keys;
  const parts = [
    Buffer.from(keys.high.buffer, 0, count * 4),
    Buffer.from(keys.low.buffer, 0, count * 4),
    Buffer.from(keys.lengths.buffer, 0, count * 2),
  ];
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  const record: CutRecord = { path, ...identity, parameters, count, sha256: hash.digest('hex') };
  const temporary = `${remembered.keys}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(remembered.keys), { recursive: true });
    // The record goes last: keys without their record are cut again, never believed.
    const file = openSync(temporary, 'w');
    try {
      for (const part of parts) for (let done = 0; done < part.length;) done += writeSync(file, part, done);
    } finally {
      closeSync(file);
    }
    renameSync(temporary, remembered.keys);
    writeFileAtomically(remembered.record, JSON.stringify(record));
  } catch {
    // A full disk costs the shortcut only: the next update cuts the image again.
    rmSync(temporary, { force: true });
  }
}

function recall(path: string, identity: Identity, parameters: ChunkingParameters, remembered: RememberedCut): ChunkKeys | null {
  const record = recordOf(path, identity, parameters, remembered);
  if (!record) return null;
  let bytes: Buffer;
  try {
    bytes = readFileSync(remembered.keys);
  } catch {
    return null;
  }
  const { count } = record;
  if (!Number.isSafeInteger(count) || bytes.length !== count * 10) return null;
  if (createHash('sha256').update(bytes).digest('hex') !== record.sha256) return null;
  const keys = new ChunkKeys(count, identity.size);
  bytes.copy(Buffer.from(keys.high.buffer), 0, 0, count * 4);
  bytes.copy(Buffer.from(keys.low.buffer), 0, count * 4, count * 8);
  bytes.copy(Buffer.from(keys.lengths.buffer), 0, count * 8, count * 10);
  let offset = 0;
  for (let chunk = 0; chunk < count; chunk++) {
    keys.offsets[chunk] = offset;
    offset += keys.lengths[chunk];
  }
  if (offset !== identity.size) return null;
  keys.count = count;
  return keys;
}

/** The record of a remembered cut of this very file, as it is now, with these chunk sizes; else null. */
function recordOf(path: string, identity: Identity, parameters: ChunkingParameters, remembered: RememberedCut): CutRecord | null {
  try {
    const record = JSON.parse(readFileSync(remembered.record, 'utf8')) as CutRecord;
    return record.path === path && sameIdentity(record, identity) && sameParameters(record.parameters, parameters) ? record : null;
  } catch {
    return null;
  }
}

export const sameParameters = (left: ChunkingParameters | null | undefined, right: ChunkingParameters) =>
  !!left && left.minSize === right.minSize && left.averageSize === right.averageSize && left.maxSize === right.maxSize;
