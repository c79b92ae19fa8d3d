// Content-addressed artifact store on the local disk (DESIGN.md: filesystem default, an
// S3-compatible store later behind the same interface). Uploads land in a temporary file
// first and enter the store only by an atomic rename once everything has been verified.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, rmSync, existsSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { garbageCollectorEvery } from '../../client/garbage.js';

export interface IngestResult {
  temporaryPath: string;
  size: number;
  sha256: string;
}

export interface ArtifactStore {
  /**
   * Streams bytes to a temporary file while hashing them; memory stays flat. Stops with
   * `tooLong` as soon as more than `maxBytes` arrive, so an endless upload costs nothing.
   */
  ingest(source: Readable, limit?: { maxBytes: number; tooLong: () => Error }): Promise<IngestResult>;
  /** Moves a verified temporary file into the store under its sha256. */
  commit(temporaryPath: string, sha256: string): Promise<void>;
  discard(temporaryPath: string): Promise<void>;
  pathOf(sha256: string): string;
  has(sha256: string): boolean;
  sizeOf(sha256: string): number;
  /** Path relative to the store's root, for X-Accel-Redirect. */
  relativePathOf(sha256: string): string;
  /**
   * Start-up recovery: removes stored artifacts that no row references and returns their
   * digests. A crash between `commit` and the release row's transaction leaves such a file.
   */
  removeUnreferenced(isReferenced: (sha256: string) => boolean): string[];
}

export function createFileArtifactStore(root: string, temporaryDirectory: string): ArtifactStore {
  mkdirSync(root, { recursive: true });
  mkdirSync(temporaryDirectory, { recursive: true });
  // "Temporary" is everything in `temporaryDirectory`: the bytes of uploads (release artifacts,
  // diagnostics bundles) still being received or verified. Nothing refers to them, and the
  // process that wrote them is the one starting now (one machine first: one process owns its
  // data directory), so at start-up each is the leftover of a request a crash cut short.
  for (const name of readdirSync(temporaryDirectory)) rmSync(join(temporaryDirectory, name), { recursive: true, force: true });

  const relativePathOf = (sha256: string) => join(sha256.slice(0, 2), sha256);
  const pathOf = (sha256: string) => join(root, relativePathOf(sha256));

  return {
    async ingest(source, limit) {
      const temporaryPath = join(temporaryDirectory, `${randomUUID()}.upload`);
      const sha256 = createHash('sha256');
      let size = 0;
      const collectGarbage = garbageCollectorEvery(4 * 1024 * 1024);
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (limit && size > limit.maxBytes) return callback(limit.tooLong());
          sha256.update(chunk);
          collectGarbage(chunk.length);
          callback(null, chunk);
        },
      });
      const file = createWriteStream(temporaryPath, { highWaterMark: 1024 * 1024 });
      try {
        await pipeline(source, hasher, file);
      } catch (error) {
        // A source that fails at once fails the pipeline while the file is still being
        // opened; removing it before it has closed let the open create it again afterwards
        // (an empty orphan, found by test/fuzz/multipart.test.ts).
        // (Not events.once: it rejects on the 'error' the destroyed file re-emits.)
        if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
        await rm(temporaryPath, { force: true });
        throw error;
      }
      return { temporaryPath, size, sha256: sha256.digest('hex') };
    },
    async commit(temporaryPath, sha256) {
      const target = pathOf(sha256);
      mkdirSync(join(root, sha256.slice(0, 2)), { recursive: true });
      if (existsSync(target)) {
        // Same bytes already stored (e.g. one artifact in two releases): keep the existing file.
        await rm(temporaryPath, { force: true });
        return;
      }
      await rename(temporaryPath, target);
    },
    async discard(temporaryPath) {
      await rm(temporaryPath, { force: true });
    },
    pathOf,
    relativePathOf,
    has: (sha256) => existsSync(pathOf(sha256)),
    sizeOf: (sha256) => statSync(pathOf(sha256)).size,
    removeUnreferenced(isReferenced) {
      const removed: string[] = [];
      // Only the store's own layout (`ab/abcd…`) is looked at; anything else is not ours to remove.
      const prefixes = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory() && /^[0-9a-f]{2}$/.test(entry.name));
      for (const { name: prefix } of prefixes) {
        for (const name of readdirSync(join(root, prefix))) {
          if (!/^[0-9a-f]{64}$/.test(name) || !name.startsWith(prefix) || isReferenced(name)) continue;
          rmSync(join(root, prefix, name), { force: true });
          removed.push(name);
        }
      }
      return removed;
    },
  };
}
