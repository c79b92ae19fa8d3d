// The artifact store in an S3-compatible bucket (DESIGN.md, "One machine first, many later"),
// for several server processes that share no disk. The layout mirrors the data directory's
// (PREFIX/artifacts/ab/<sha256>, PREFIX/bundles/<session>.gz), so `aws s3 sync` of the bucket
// into a data directory is a filesystem store. An upload streams, hashed on the way, as the
// parts of a multipart upload on the key it is meant for (bounded parts, a bounded number in
// flight: memory stays flat), which becomes an object only when the verified upload is
// committed, and is aborted otherwise (s3-multipart.ts). Keys are the content (or the
// session), so a restart or another process finds the same object.
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { DeferredUpload } from './s3-multipart.js';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  artifactLayout,
  checkKey,
  hashingCounter,
  orphanAfterMs,
  type ArtifactStore,
  type ByteReader,
  type KeyLayout,
  type Upload,
} from './artifact-store.js';

export interface S3Location {
  bucket: string;
  prefix: string;
}

/** The bucket's connection, read the way AWS tools read it (AWS_* variables, the default credential chain). */
export interface S3Connection {
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

/**
 * The part size and how many parts are in flight: a multipart upload holds about
 * (queue + 1) × part bytes, whatever the artifact's size. 8 MiB × 2 keeps a 1 GiB upload's RSS
 * far below the server's 150 MiB budget and needs 128 parts (S3 allows 10,000).
 */
export const multipartPartBytes = 8 * 1024 * 1024;
export const multipartQueue = 2;
/** A multipart upload older than this belongs to no upload still running (a crashed process's). */
export const abandonedAfterMs = 24 * 3600_000;

export function s3ConnectionFrom(env: NodeJS.ProcessEnv): S3Connection {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined);
  if (!region) throw new Error('--artifact-store s3://… needs AWS_REGION (or AWS_ENDPOINT_URL for an S3-compatible server)');
  // S3-compatible servers (MinIO, Ceph, moto) address buckets by path, not by host name.
  return { region, endpoint, forcePathStyle: endpoint !== undefined };
}

interface S3StoreOptions {
  location: S3Location;
  connection: S3Connection;
  layout?: KeyLayout;
  /** The wall clock that the bucket's timestamps are compared with (not the server's domain clock). */
  clock?: () => number;
  client?: S3Client;
}

export function createS3Client(connection: S3Connection): S3Client {
  const agentOptions = { keepAlive: true, maxSockets: 256 };
  return new S3Client({
    region: connection.region,
    endpoint: connection.endpoint,
    forcePathStyle: connection.forcePathStyle,
    // Checksums only where S3 requires them: S3-compatible servers differ in the CRC32 headers
    // they accept and return (moto sends the whole object's with a ranged GET, which then
    // never matches). The bytes are checked end to end anyway, by their sha256: while they
    // arrive, and by the device against the signed manifest.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: 10_000,
      requestTimeout: 120_000,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    },
  });
}

/** Checks the bucket answers, clears what crashed uploads left, and returns the store. */
export async function openS3ArtifactStore(options: S3StoreOptions): Promise<ArtifactStore> {
  const client = options.client ?? createS3Client(options.connection);
  const { bucket } = options.location;
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    client.destroy();
    const status = (error as S3ServiceException).$metadata?.httpStatusCode;
    const why =
      status === 404
        ? 'no such bucket'
        : status === 403
          ? 'access denied (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)'
          : (error as Error).message || (error as Error).name;
    throw new Error(`the artifact store s3://${bucket}/${options.location.prefix} does not answer: ${why}`, { cause: error });
  }
  const store = createS3ArtifactStore({ ...options, client });
  await store.sweepAbandoned();
  return store;
}

export function createS3ArtifactStore(options: S3StoreOptions & { client: S3Client }): ArtifactStore & { sweepAbandoned(): Promise<void> } {
  const { client } = options;
  const layout = options.layout ?? artifactLayout;
  const clock = options.clock ?? Date.now;
  const Bucket = options.location.bucket;
  const prefix =
    options.location.prefix === '' || options.location.prefix.endsWith('/') ? options.location.prefix : `${options.location.prefix}/`;
  const folder = `${prefix}${layout.folder}/`;
  const objectKey = (key: string) => `${folder}${layout.place(checkKey(layout, key))}`;
  // Uploads received and not yet committed or discarded, by their temporary name.
  const pending = new Map<string, { key: string; upload: DeferredUpload }>();
  const pendingOf = (upload: Upload) => {
    const found = pending.get(upload.temporary);
    if (!found) throw new Error(`"${upload.temporary}" is not an upload waiting in this store`);
    return found;
  };
  const remove = (Key: string) => client.send(new DeleteObjectCommand({ Bucket, Key }));
  const head = async (Key: string) => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket, Key }));
    } catch (error) {
      if ((error as S3ServiceException).$metadata?.httpStatusCode === 404) return null;
      throw error;
    }
  };
  async function* listed(Prefix: string) {
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
      yield* page.Contents ?? [];
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  return {
    location: `s3://${Bucket}/${prefix}`,
    kind: 's3',
    async ingest(source, intendedKey, limit) {
      const temporary = `${randomUUID()}.upload`;
      const counter = hashingCounter(limit);
      // The parts go up under the key the bytes are meant for, invisible until completed.
      const upload = new DeferredUpload({
        client,
        Bucket,
        Key: objectKey(intendedKey),
        partBytes: multipartPartBytes,
        queue: multipartQueue,
      });
      try {
        await pipeline(source, counter.stream, upload);
      } catch (error) {
        await upload.abort().catch(() => {});
        throw error;
      }
      pending.set(temporary, { key: intendedKey, upload });
      return { temporary, ...counter.result() };
    },
    async commit(upload, key) {
      const waiting = pendingOf(upload);
      if (waiting.key !== key) throw new Error(`upload ${upload.temporary} was meant for ${waiting.key}, not ${key}`);
      pending.delete(upload.temporary);
      const target = objectKey(key);
      try {
        if (await head(target)) {
          // Same bytes already stored (one artifact in two releases, or another process was first).
          await waiting.upload.abort();
          return false;
        }
        await waiting.upload.complete({ sha256: upload.sha256 });
      } catch (error) {
        await waiting.upload.abort().catch(() => {});
        throw error;
      }
      const stored = await head(target);
      if (stored?.ContentLength !== upload.size)
        throw new Error(`${target} has ${stored?.ContentLength ?? 'no'} bytes after the upload, not ${upload.size}`);
      return true;
    },
    async discard(upload) {
      const waiting = pending.get(upload.temporary);
      pending.delete(upload.temporary);
      await waiting?.upload.abort();
    },
    async stat(key) {
      const found = await head(objectKey(key));
      return found ? { size: found.ContentLength ?? 0 } : null;
    },
    async open(key, from = 0) {
      const reader = new ObjectReader(client, Bucket, objectKey(key));
      // The first request now, so that a missing object fails before any answer has begun.
      await reader.restart(from);
      return reader;
    },
    async remove(key) {
      await remove(objectKey(key));
    },
    async handOff(key, request) {
      if (request.kind !== 'presigned-url')
        throw new Error('X-Accel-Redirect needs the filesystem store; with an object store use --artifact-delivery redirect');
      const command = new GetObjectCommand({
        Bucket,
        Key: objectKey(key),
        ResponseContentDisposition: `attachment; filename="${request.fileName.replace(/["\\\r\n]/g, '_')}"`,
      });
      return { kind: 'presigned-url', url: await getSignedUrl(client, command, { expiresIn: request.expiresSeconds }) };
    },
    async removeUnreferenced(isReferenced) {
      const removed: string[] = [];
      for await (const object of listed(folder)) {
        const key = layout.keyOf(object.Key!.slice(folder.length));
        if (key === null || isReferenced(key)) continue;
        if (clock() - (object.LastModified?.getTime() ?? 0) < orphanAfterMs) continue;
        await remove(object.Key!);
        removed.push(key);
      }
      return removed;
    },
    async sweepAbandoned() {
      // Several processes share the bucket: only what is older than any running upload goes.
      const before = clock() - abandonedAfterMs;
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      do {
        const page = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: prefix, KeyMarker, UploadIdMarker }));
        for (const upload of page.Uploads ?? []) {
          if ((upload.Initiated?.getTime() ?? 0) < before)
            await client.send(new AbortMultipartUploadCommand({ Bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
        }
        [KeyMarker, UploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [undefined, undefined];
      } while (KeyMarker);
    },
    async close() {
      if (!options.client) client.destroy();
    },
  };
}

/**
 * Positional reads over ranged GETs: reads that follow each other (a download) share one
 * response; a read elsewhere starts another at its position.
 */
class ObjectReader implements ByteReader {
  private body: AsyncIterator<Uint8Array> | null = null;
  private destroyBody: () => void = () => {};
  private pending: Buffer = Buffer.alloc(0);
  private next = -1;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  async restart(position: number): Promise<void> {
    this.destroyBody();
    this.body = null;
    this.pending = Buffer.alloc(0);
    this.next = position;
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key, Range: `bytes=${position}-` }));
      const stream = answer.Body as Readable;
      this.destroyBody = () => stream.destroy();
      this.body = stream[Symbol.asyncIterator]();
    } catch (error) {
      // A position at the end: nothing left to read.
      if ((error as S3ServiceException).$metadata?.httpStatusCode === 416) return;
      throw error;
    }
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    if (position !== this.next) await this.restart(position);
    let filled = 0;
    while (filled < length && this.body) {
      if (this.pending.length === 0) {
        const step = await this.body.next();
        if (step.done) {
          this.body = null;
          break;
        }
        this.pending = Buffer.from(step.value.buffer, step.value.byteOffset, step.value.byteLength);
      }
      const count = this.pending.copy(buffer, offset + filled, 0, Math.min(length - filled, this.pending.length));
      this.pending = this.pending.subarray(count);
      filled += count;
    }
    this.next = position + filled;
    return { bytesRead: filled };
  }

  async close(): Promise<void> {
    this.destroyBody();
    this.body = null;
  }
}
