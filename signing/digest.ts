// Streams a file through digests: an image of a gibibyte never sits in memory. One buffer is
// read into again and again: a read stream's fresh 1 MiB buffer per read is garbage that V8
// frees only at its external-memory limit, which showed as 30 MiB more server RSS after every
// publish (BENCHMARKS.md).
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Feeds the whole file at `path` to every hash in `hashes`; returns its size in bytes. */
export async function digestFile(path: string, hashes: Hash[]): Promise<number> {
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const file = await open(path, 'r');
  let size = 0;
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return size;
      for (const hash of hashes) hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await file.close();
  }
}

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const size = await digestFile(path, [hash]);
  return { sha256: hash.digest('hex'), size };
}
