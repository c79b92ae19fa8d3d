// How to build the new image from a seed (pure, docs/delta-updates.md): walk the new index
// from the first chunk not yet written; chunks the seed has become copies, the others
// downloads (of their packed bytes, from the chunk pack); neighbours merge, so that a run of
// missing chunks is one Range request of the pack and a run of chunks that sit together in
// the seed is one read.
import type { ChunkIndex, Offsets } from '../../signing/chunk-index.js';

export type Operation =
  | { kind: 'copy'; first: number; last: number; from: number; length: number }
  /** start..end (inclusive): the chunks' bytes in the chunk pack. */
  | { kind: 'fetch'; first: number; last: number; start: number; end: number };

export interface SeedLookup {
  find(index: ChunkIndex, chunk: number): number;
  offsets: Offsets;
}

/**
 * Two downloads with at most this many packed bytes between them become one. With raw ranges
 * it was 16 KiB (on loopback a request costs about as much); packed, 16 KiB of the pack is
 * often 40 KiB of data, and merging gaps of up to 4 KiB costs 0.001 MiB on the 256 MiB pair
 * where 16 KiB cost 0.08 MiB (BENCHMARKS.md): bytes are what a metered link pays for.
 */
export const mergeGapBytes = 4 * 1024;

export function planOperations(index: ChunkIndex, seed: SeedLookup | null, fromChunk = 0, maxGap = mergeGapBytes): Operation[] {
  return mergeCloseFetches(exactOperations(index, seed, fromChunk), maxGap);
}

/** A short copy between two downloads is downloaded too (its chunks verify like the others). */
function mergeCloseFetches(operations: Operation[], maxGap: number): Operation[] {
  const merged: Operation[] = [];
  for (let at = 0; at < operations.length; at++) {
    const operation = operations[at];
    const previous = merged.at(-1);
    const next = operations[at + 1];
    if (operation.kind === 'copy' && previous?.kind === 'fetch' && next?.kind === 'fetch' && next.start - previous.end - 1 <= maxGap) {
      previous.last = next.last;
      previous.end = next.end;
      at++;
      continue;
    }
    merged.push(operation.kind === 'fetch' ? { ...operation } : operation);
  }
  return merged;
}

function exactOperations(index: ChunkIndex, seed: SeedLookup | null, fromChunk: number): Operation[] {
  const operations: Operation[] = [];
  for (let chunk = fromChunk; chunk < index.count; chunk++) {
    const length = index.lengths[chunk];
    const found = seed ? seed.find(index, chunk) : -1;
    const previous = operations.at(-1);
    if (found >= 0) {
      const from = seed!.offsets[found];
      if (previous?.kind === 'copy' && previous.from + previous.length === from) {
        previous.last = chunk;
        previous.length += length;
      } else {
        operations.push({ kind: 'copy', first: chunk, last: chunk, from, length });
      }
    } else if (previous?.kind === 'fetch') {
      previous.last = chunk;
      previous.end += index.packLengths[chunk];
    } else {
      const start = index.packOffsets[chunk];
      operations.push({ kind: 'fetch', first: chunk, last: chunk, start, end: start + index.packLengths[chunk] - 1 });
    }
  }
  return operations;
}

/** Bytes of the pack the operations download (the index aside). */
export const bytesToFetch = (operations: Operation[]) =>
  operations.reduce((sum, operation) => sum + (operation.kind === 'fetch' ? operation.end - operation.start + 1 : 0), 0);
