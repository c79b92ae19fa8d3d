// The artifact store (DESIGN.md, "One machine first, many later"): release artifacts under
// their sha256, diagnostics bundles under their session, on the local disk (this file, the
// default) or in an S3-compatible bucket (s3-artifact-store.ts). Uploads land under a
// temporary name first and enter the store under their key only once everything has been
// verified. Nothing outside the store knows where its bytes live: callers see keys, byte
// ranges and, for a download handed to someone else, what to tell the client.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, rmSync, existsSync, statSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { garbageCollectorEvery } from '../../client/garbage.js';

export interface IngestLimit {
  maxBytes: number;
  tooLong: () => Error;
}

/** Bytes received and hashed, under a temporary name of the store's own until commit or discard. */
export interface Upload {
  readonly size: number;
  readonly sha256: string;
  /** The store's own name for the temporary bytes; meaningless to anyone else. */
  readonly temporary: string;
}

/** Positional reads of one stored object (a FileHandle is one). */
export interface ByteReader {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** How a client gets bytes the server does not send itself. */
export type HandOff = { kind: 'internal-redirect'; path: string } | { kind: 'presigned-url'; url: string };

export type HandOffRequest = { kind: 'internal-redirect' } | { kind: 'presigned-url'; expiresSeconds: number; fileName: string };

export interface ArtifactStore {
  /** Where the bytes live, for messages: a directory, or s3://BUCKET/PREFIX. */
  readonly location: string;
  readonly kind: 'filesystem' | 's3';
  /**
   * Streams bytes under a temporary name while hashing them; memory stays flat. `intendedKey`
   * is the key the caller will commit them under if they verify (a release's promised sha256,
   * a bundle's session): an object store sends them there already, invisibly. Stops with
   * `tooLong` as soon as more than `maxBytes` arrive, so an endless upload costs nothing; on
   * any failure nothing is left behind.
   */
  ingest(source: Readable, intendedKey: string, limit?: IngestLimit): Promise<Upload>;
  /** Puts a verified upload under `key`; the same key already stored keeps its bytes. True when it was new. */
  commit(upload: Upload, key: string): Promise<boolean>;
  discard(upload: Upload): Promise<void>;
  stat(key: string): Promise<{ size: number } | null>;
  /** A reader of the object; `from` is where reading will begin (a hint: any position may be read). */
  open(key: string, from?: number): Promise<ByteReader>;
  remove(key: string): Promise<void>;
  /** What to tell a client so that someone else (nginx, the object store) sends the bytes. */
  handOff(key: string, request: HandOffRequest): Promise<HandOff>;
  /**
   * Start-up recovery: removes stored objects that no row references and returns their keys.
   * A crash between `commit` and the release row's transaction leaves such an object.
   */
  removeUnreferenced(isReferenced: (key: string) => boolean): Promise<string[]>;
  close(): Promise<void>;
}

/** How keys of one kind of object are named and laid out. */
export interface KeyLayout {
  /** The folder (directory, or part of the object key) of this kind. */
  folder: string;
  pattern: RegExp;
  /** The key's place inside the folder. */
  place: (key: string) => string;
  /** The key of a place inside the folder, or null for anything that is not ours. */
  keyOf: (place: string) => string | null;
}

/** Release artifacts: `ab/abcd…` (the first two hex digits spread the files over directories). */
export const artifactLayout: KeyLayout = {
  folder: 'artifacts',
  pattern: /^[0-9a-f]{64}$/,
  place: (sha256) => join(sha256.slice(0, 2), sha256),
  keyOf: (place) => {
    const match = /^([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(place);
    return match && match[2].startsWith(match[1]) ? match[2] : null;
  },
};

/** Diagnostics bundles: `<session>.gz`. */
export const bundleLayout: KeyLayout = {
  folder: 'bundles',
  pattern: /^[\w-]+$/,
  place: (session) => `${session}.gz`,
  keyOf: (place) => /^([\w-]+)\.gz$/.exec(place)?.[1] ?? null,
};

export function checkKey(layout: KeyLayout, key: string): string {
  if (!layout.pattern.test(key)) throw new Error(`"${key}" is not a key of the ${layout.folder} store`);
  return key;
}

/** Counts and hashes what passes; fails with `limit.tooLong` past its size. */
export function hashingCounter(limit?: IngestLimit) {
  const sha256 = createHash('sha256');
  let size = 0;
  const collectGarbage = garbageCollectorEvery(4 * 1024 * 1024);
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (limit && size > limit.maxBytes) return callback(limit.tooLong());
      sha256.update(chunk);
      collectGarbage(chunk.length);
      callback(null, chunk);
    },
  });
  return { stream, result: () => ({ size, sha256: sha256.digest('hex') }) };
}

/** Feeds a stored object to every hash in `hashes` through one reused buffer; returns its size. */
export async function digestStored(store: ArtifactStore, key: string, hashes: Hash[]): Promise<number> {
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const reader = await store.open(key);
  let size = 0;
  try {
    for (;;) {
      const { bytesRead } = await reader.read(buffer, 0, buffer.length, size);
      if (bytesRead === 0) return size;
      for (const hash of hashes) hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await reader.close();
  }
}

/** A stored object as a stream, for small ones (bundles) that fastify sends as they are. */
export async function readableOf(store: ArtifactStore, key: string): Promise<Readable> {
  const reader = await store.open(key);
  async function* chunks() {
    let position = 0;
    try {
      for (;;) {
        const buffer = Buffer.allocUnsafe(256 * 1024);
        const { bytesRead } = await reader.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await reader.close();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** `<host>.<pid>.<uuid>.upload`: whose upload it is, so that a starting process knows whether its writer is gone. */
const temporaryName = /^([A-Za-z0-9-]+)\.(\d+)\.[0-9a-f-]{36}\.upload$/;
/** A temporary file untouched this long belongs to no running upload. */
export const abandonedTemporaryMs = 15 * 60_000;
/**
 * An unreferenced artifact younger than this may be one whose release row another process is
 * committing right now (bytes first, then the row): start-up recovery leaves it to a later start.
 */
export const orphanAfterMs = 15 * 60_000;

function processIsGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes the temporary files whose writer is gone (see createFileArtifactStore). */
function sweepTemporary(directory: string, now: number): void {
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '-');
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    const owner = temporaryName.exec(name);
    const stale = () => now - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? now) > abandonedTemporaryMs;
    // Names of an older layout, or anything else in the directory, have no writer to ask.
    // A live process of this host whose file sat untouched that long is not uploading it either
    // (a reused pid, or an upload the request timeout cut off without the file going).
    const gone = owner === null || (owner[1] === host && processIsGone(Number(owner[2]))) || stale();
    if (gone) rmSync(path, { recursive: true, force: true });
  }
}

export function createFileArtifactStore(root: string, temporaryDirectory: string, layout: KeyLayout = artifactLayout): ArtifactStore {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  mkdirSync(temporaryDirectory, { recursive: true, mode: 0o700 });
  // "Temporary" is everything in `temporaryDirectory`: the bytes of uploads (release artifacts,
  // diagnostics bundles) still being received or verified. Several server processes may share
  // the data directory (DESIGN.md, "One machine first, many later"), so each upload's name says
  // which host and process writes it, and start-up removes only the leftovers of processes that
  // are gone: this host's dead processes at once, other hosts' after they have sat untouched
  // longer than any upload stalls (the request timeout cuts a stalled one off long before).
  sweepTemporary(temporaryDirectory, Date.now());

  const pathOf = (key: string) => join(root, layout.place(checkKey(layout, key)));
  const temporaryPathOf = (upload: Upload) => {
    if (!temporaryName.test(upload.temporary)) throw new Error(`"${upload.temporary}" is not an upload of this store`);
    return join(temporaryDirectory, upload.temporary);
  };

  return {
    location: root,
    kind: 'filesystem',
    async ingest(source, _intendedKey, limit) {
      const temporary = `${hostname().replace(/[^A-Za-z0-9-]/g, '-')}.${process.pid}.${randomUUID()}.upload`;
      const temporaryPath = join(temporaryDirectory, temporary);
      const counter = hashingCounter(limit);
      const file = createWriteStream(temporaryPath, { highWaterMark: 1024 * 1024 });
      try {
        await pipeline(source, counter.stream, file);
      } catch (error) {
        // A source that fails at once fails the pipeline while the file is still being
        // opened; removing it before it has closed let the open create it again afterwards
        // (an empty orphan, found by test/fuzz/multipart.test.ts).
        // (Not events.once: it rejects on the 'error' the destroyed file re-emits.)
        if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
        await rm(temporaryPath, { force: true });
        throw error;
      }
      return { temporary, ...counter.result() };
    },
    async commit(upload, key) {
      const target = pathOf(key);
      mkdirSync(join(target, '..'), { recursive: true, mode: 0o700 });
      if (existsSync(target)) {
        // Same bytes already stored (e.g. one artifact in two releases): keep the existing file.
        await rm(temporaryPathOf(upload), { force: true });
        return false;
      }
      await rename(temporaryPathOf(upload), target);
      return true;
    },
    async discard(upload) {
      await rm(temporaryPathOf(upload), { force: true });
    },
    async stat(key) {
      const found = await stat(pathOf(key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      return found ? { size: found.size } : null;
    },
    open: (key) => open(pathOf(key), 'r'),
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
    async handOff(key, request) {
      // nginx serves the bytes from an internal location whose root is this directory.
      if (request.kind === 'internal-redirect') return { kind: 'internal-redirect', path: layout.place(checkKey(layout, key)) };
      throw new Error(
        'pre-signed URLs need an object store (--artifact-store s3://BUCKET/PREFIX); the filesystem store streams or hands off to nginx',
      );
    },
    async removeUnreferenced(isReferenced) {
      const removed: string[] = [];
      // Only the store's own layout is looked at; anything else is not ours to remove.
      const places = readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(root.length + 1));
      for (const place of places) {
        const key = layout.keyOf(place);
        if (key === null || isReferenced(key)) continue;
        const modified = statSync(join(root, place), { throwIfNoEntry: false })?.mtimeMs;
        if (modified === undefined || Date.now() - modified < orphanAfterMs) continue;
        rmSync(join(root, place), { force: true });
        removed.push(key);
      }
      return removed;
    },
    async close() {},
  };
}
