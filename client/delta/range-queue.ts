// The delta's downloads, fetched ahead of the writer (docs/delta-updates.md): a few Range
// requests in flight at once, each answer collected whole, and handed over strictly in the
// image's order. One request at a time left the link idle for a round trip per range (210 of
// them for the 256 MiB pair, about 15 ms each on a loaded machine, BENCHMARKS.md); a fixed
// budget of bytes held ahead keeps memory the same whatever the image's size.
import type { ChunkIndex } from '../../signing/chunk-index.js';
import type { Operation } from './plan.js';
import type { RangeFetcher } from './range-fetch.js';

/** A run of whole chunks fetched with one request: bytes start..end (inclusive) of the chunk pack. */
export interface Piece {
  first: number;
  last: number;
  start: number;
  end: number;
}

/** Requests in flight at once: enough to hide a round trip, few enough to be polite to a store. */
export const defaultConcurrency = 4;
/** The most one request asks for (whole chunks always); four of them are held ahead at most. */
export const defaultPieceBytes = 512 * 1024;

/** The fetch operations cut, at chunk boundaries, into pieces of at most `pieceBytes`. */
export function* piecesOf(operations: Operation[], index: ChunkIndex, pieceBytes: number): Generator<Piece> {
  for (const operation of operations) {
    if (operation.kind !== 'fetch') continue;
    let first = operation.first;
    while (first <= operation.last) {
      const start = index.packOffsets[first];
      let last = first;
      while (last < operation.last && index.packOffsets[last + 1] + index.packLengths[last + 1] - start <= pieceBytes) last++;
      yield { first, last, start, end: index.packOffsets[last] + index.packLengths[last] - 1 };
      first = last + 1;
    }
  }
}

interface Slot {
  piece: Piece;
  /** Where the piece's bytes sit in the ring. */
  offset: number;
  buffer: Buffer;
  done: Promise<void>;
}

/**
 * Pieces fetched ahead: at most `concurrency` requests in flight and `aheadBytes` held, but
 * up to `aheadPieces` of them, so that many short ranges (a few KiB each, the usual case) are
 * asked for while the writer copies from the seed, not one by one when it reaches them: the
 * server answers them one after another.
 */
export class RangeQueue {
  private readonly slots: Slot[] = [];
  private peeked: Piece | null = null;
  private exhausted = false;
  private failure: unknown = null;
  private inFlight = 0;
  /**
   * The pieces' bytes, in one ring used in order (the pieces are consumed in the order they
   * are asked for): no allocation per piece, where a 1 GiB rebuild asks for thousands of
   * pieces of a few KiB, and a fixed size whatever the image's.
   */
  private readonly ring: Buffer;
  private head = 0;
  private readonly concurrency: number;
  private readonly aheadPieces: number;
  /** Requests started, for the report. */
  requests = 0;

  constructor(
    private readonly fetcher: RangeFetcher,
    private readonly pieces: Iterator<Piece>,
    options: { concurrency?: number; aheadBytes?: number; aheadPieces?: number } = {},
  ) {
    this.concurrency = options.concurrency ?? defaultConcurrency;
    this.ring = Buffer.allocUnsafe(Math.max(options.aheadBytes ?? defaultConcurrency * defaultPieceBytes, defaultPieceBytes));
    this.aheadPieces = options.aheadPieces ?? 32;
    this.fill();
  }

  /** The next piece in order and its bytes (valid until `release`), or null after the last. */
  async next(): Promise<{ piece: Piece; bytes: Buffer } | null> {
    const slot = this.slots[0];
    if (!slot) return null;
    await slot.done;
    return { piece: slot.piece, bytes: slot.buffer };
  }

  /** The piece `next` gave is used: its bytes are let go, and the next request may start. */
  release(): void {
    this.slots.shift();
    this.fill();
  }

  /** Room for `size` bytes in the ring after the pieces held, or -1. */
  private allocate(size: number): number {
    if (this.slots.length === 0) this.head = 0;
    const oldest = this.slots[0]?.offset;
    let at = -1;
    if (oldest === undefined) at = 0;
    else if (this.head > oldest) {
      // Free: from the head to the end, then from the start to the oldest piece.
      if (this.head + size <= this.ring.length) at = this.head;
      else if (size <= oldest) at = 0;
    } else if (this.head < oldest && this.head + size <= oldest) at = this.head;
    if (at >= 0) this.head = at + size;
    return at;
  }

  private fill(): void {
    while (!this.exhausted && this.failure === null && this.inFlight < this.concurrency && this.slots.length < this.aheadPieces) {
      if (!this.peeked) {
        const step = this.pieces.next();
        if (step.done) {
          this.exhausted = true;
          return;
        }
        this.peeked = step.value;
      }
      const piece = this.peeked;
      const offset = this.allocate(piece.end - piece.start + 1);
      if (offset < 0) return;
      this.peeked = null;
      const buffer = this.ring.subarray(offset, offset + piece.end - piece.start + 1);
      this.inFlight++;
      this.requests++;
      let filled = 0;
      const done = this.fetcher.fetch(piece.start, piece.end, (data) => {
        data.copy(buffer, filled);
        filled += data.length;
      });
      // The writer sees a failure when it reaches this piece; until then it must not be unhandled.
      done.then(
        () => {
          this.inFlight--;
          this.fill();
        },
        (error: unknown) => {
          this.inFlight--;
          this.failure ??= error;
        },
      );
      this.slots.push({ piece, offset, buffer, done });
    }
  }
}
