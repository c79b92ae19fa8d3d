// Appends the new image to the partial file in order, feeding the whole image's SHA-256 on the
// way, so the final verification needs no second read. Two 512 KiB buffers: one is filled and
// hashed while the other is being written (the write runs on libuv's threads), and reads from
// the seed go straight into the buffer, uncopied. (1 MiB each before: 1 MiB of the 80 MiB
// budget at 1 GiB, BENCHMARKS.md.)
import type { Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DeltaUnusable } from './range-fetch.js';

const bufferSize = 512 * 1024;

export class ImageWriter {
  private buffer = Buffer.allocUnsafe(bufferSize);
  private spare = Buffer.allocUnsafe(bufferSize);
  private used = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  constructor(
    private readonly file: FileHandle,
    private position: number,
    private readonly whole: Hash,
  ) {}

  /** Verified bytes (at most a buffer's 512 KiB at a time). */
  async append(data: Buffer): Promise<void> {
    if (this.used + data.length > this.buffer.length) await this.flush();
    data.copy(this.buffer, this.used);
    this.whole.update(data);
    this.used += data.length;
  }

  /**
   * `length` bytes of `source` from `from`: the chunks the seed has. Read synchronously: from
   * the page cache a 1 MiB read takes a fraction of a millisecond, where a read on libuv's
   * threads costs a wake-up of this thread each, and those dominated on a loaded machine
   * (measured: a 256 MiB rebuild took 2 s longer with reads of a quarter of the buffer ahead).
   */
  async appendFromFile(source: FileHandle, from: number, length: number): Promise<void> {
    for (let done = 0; done < length;) {
      if (this.used === this.buffer.length) await this.flush();
      const want = Math.min(length - done, this.buffer.length - this.used);
      const bytesRead = readSync(source.fd, this.buffer, this.used, want, from + done);
      if (bytesRead === 0) throw new DeltaUnusable('seed_changed', `the seed ended at ${from + done} while reading`);
      this.whole.update(this.buffer.subarray(this.used, this.used + bytesRead));
      this.used += bytesRead;
      done += bytesRead;
    }
  }

  /** Starts writing what is buffered and swaps buffers; resolves once the previous write is done. */
  async flush(): Promise<void> {
    await this.writing;
    if (this.failure) throw this.failure;
    if (this.used === 0) return;
    const full = this.buffer;
    const length = this.used;
    const position = this.position;
    this.buffer = this.spare;
    this.spare = full;
    this.used = 0;
    this.position += length;
    // Held until the next flush, which reports it: never an unhandled rejection meanwhile.
    this.writing = writeAll(this.file, full, length, position).catch((error: Error) => {
      this.failure = error;
    });
  }

  /** Everything appended is in the file. */
  async finish(): Promise<void> {
    await this.flush();
    await this.writing;
    if (this.failure) throw this.failure;
  }
}

async function writeAll(file: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length;) done += (await file.write(buffer, done, length - done, position + done)).bytesWritten;
}
