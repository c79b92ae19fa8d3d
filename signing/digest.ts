// Streams a file through SHA-256: an image of a gibibyte never sits in memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), new Writable({
    write(chunk: Buffer, _encoding, callback) { hash.update(chunk); size += chunk.length; callback(); },
  }));
  return { sha256: hash.digest('hex'), size };
}
