// The agent's download frees dead socket buffers every few MiB instead of waiting for V8's
// external-memory limit (client/garbage.ts): the collection must really release them.
import t from 'tap';
import { collectYoungGarbage, garbageCollectorEvery } from '../../client/garbage.js';

const arrayBufferMiB = () => process.memoryUsage().arrayBuffers / 1048576;

t.test('a young-generation collection releases dropped buffers', async (t) => {
  collectYoungGarbage();
  const before = arrayBufferMiB();
  // eslint-disable-next-line no-useless-assignment -- held, then dropped for the collector to find
  let chunks: Buffer[] | null = Array.from({ length: 320 }, () => Buffer.alloc(64 * 1024, 1));
  t.ok(arrayBufferMiB() - before >= 19, 'twenty MiB of chunks are held');
  chunks = null;
  collectYoungGarbage();
  // The backing stores are freed by a sweeper that may finish just after the collection.
  for (let attempt = 0; attempt < 50 && arrayBufferMiB() - before > 2; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.ok(arrayBufferMiB() - before <= 2, `dropped chunks freed (${(arrayBufferMiB() - before).toFixed(1)} MiB left)`);
  t.equal(chunks, null);
});

t.test('garbageCollectorEvery collects once per threshold of counted bytes', async (t) => {
  const collections: number[] = [];
  let counted = 0;
  const every = garbageCollectorEvery(100, () => collections.push(counted));
  for (const size of [40, 40, 40, 10, 100, 99, 1]) {
    counted += size;
    every(size);
  }
  t.same(collections, [120, 230, 330]);
});
