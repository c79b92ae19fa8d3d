// An upload into a bucket that becomes an object only when the caller says so: the bytes go
// up as the parts of a multipart upload on the object's final key while they arrive, and the
// upload is completed after they have been verified, or aborted. A multipart upload is
// invisible until it is completed, so nobody ever sees unverified bytes under a key, and
// there is no copy afterwards (a CopyObject of a gibibyte takes long enough to stall the
// publishing request). lib-storage's Upload completes by itself at the end of the stream,
// which is why it is not used here.
//
// Memory is bounded: one part being filled and at most `queue` being sent. An upload smaller
// than one part is kept in memory and PUT at completion, so that a small refused upload never
// reaches the bucket at all.
import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface MultipartTarget {
  client: S3Client;
  Bucket: string;
  Key: string;
  partBytes: number;
  queue: number;
}

export class DeferredUpload extends Writable {
  private uploadId: string | undefined;
  private creating: Promise<string> | undefined;
  private aborted = false;
  private readonly parts: { PartNumber: number; ETag: string }[] = [];
  private readonly sending = new Set<Promise<void>>();
  private part: Buffer | null = null;
  // Part buffers are reused once their part is sent: at most queue + 1 exist, and no dead
  // 8 MiB buffer waits for a collection (they showed as a higher peak RSS).
  private readonly spare: Buffer[] = [];
  private filled = 0;
  private partNumber = 0;
  private failure: Error | undefined;
  private small: Buffer | null = null;

  constructor(private readonly target: MultipartTarget) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  private async take(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      this.part ??= this.spare.pop() ?? Buffer.allocUnsafe(this.target.partBytes);
      const copied = chunk.copy(this.part, this.filled, offset);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.part.length) await this.send();
    }
  }

  private async finish(): Promise<void> {
    // Nothing sent yet: the whole upload is this one short part, kept for a PUT at completion.
    if (this.partNumber === 0) {
      // A copy of its own size: the part buffer is 8 MiB however small the upload.
      this.small = this.part ? Buffer.from(this.part.subarray(0, this.filled)) : Buffer.alloc(0);
      this.part = null;
      return;
    }
    if (this.filled > 0) await this.send();
    await Promise.all(this.sending);
    if (this.failure) throw this.failure;
  }

  /** Sends the filled part, waiting first while `queue` parts are on their way. */
  private async send(): Promise<void> {
    while (this.sending.size >= this.target.queue) await Promise.race(this.sending).catch(() => {});
    if (this.failure) throw this.failure;
    const { client, Bucket, Key } = this.target;
    this.creating ??= client
      .send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'application/octet-stream' }))
      .then((answer) => answer.UploadId!);
    this.uploadId ??= await this.creating;
    // A write still under way when the upload was aborted sends nothing more.
    if (this.aborted) throw new Error('the upload was aborted');
    const buffer = this.part!;
    const Body = buffer.subarray(0, this.filled);
    this.part = null;
    this.filled = 0;
    const PartNumber = ++this.partNumber;
    const sending: Promise<void> = client
      .send(new UploadPartCommand({ Bucket, Key, UploadId: this.uploadId, PartNumber, Body, ContentLength: Body.length }))
      .then((answer) => {
        this.parts.push({ PartNumber, ETag: answer.ETag! });
        this.spare.push(buffer);
      })
      .catch((error: Error) => {
        this.failure ??= error;
        throw error;
      })
      .finally(() => this.sending.delete(sending));
    sending.catch(() => {});
    this.sending.add(sending);
  }

  /** Makes the object appear under its key, with `metadata`. Only after the stream has finished. */
  async complete(metadata: Record<string, string>): Promise<void> {
    const { client, Bucket, Key } = this.target;
    if (this.small) {
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key,
          Body: this.small,
          ContentLength: this.small.length,
          ContentType: 'application/octet-stream',
          Metadata: metadata,
        }),
      );
      this.small = null;
      return;
    }
    // Metadata belongs to the multipart upload's creation; the digest is known only now, so it
    // is not stored on a large object: its key is its digest.
    const Parts = [...this.parts].sort((a, b) => a.PartNumber - b.PartNumber);
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: this.uploadId, MultipartUpload: { Parts } }));
    this.uploadId = undefined;
  }

  /** Drops whatever was sent: no object, no multipart upload. Safe to call more than once. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.small = null;
    this.part = null;
    // Parts still on their way would otherwise be stored after the abort; an upload still
    // being created is aborted once it exists.
    await Promise.allSettled([...this.sending]);
    const uploadId = this.uploadId ?? (await this.creating?.catch(() => undefined));
    this.uploadId = undefined;
    if (!uploadId) return;
    await this.target.client
      .send(new AbortMultipartUploadCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId: uploadId }))
      .catch((error: { $metadata?: { httpStatusCode?: number } }) => {
        if (error.$metadata?.httpStatusCode !== 404) throw error;
      });
  }
}
