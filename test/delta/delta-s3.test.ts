// Delta updates from the S3 store with pre-signed URLs (issue 19 with issue 16): the release
// and its chunk index live in a real S3 implementation (moto, helpers/object-store.ts), the
// server answers the device with 307s to pre-signed URLs, and the agent's Range requests go
// to the store itself, without the device's token, and rebuild a byte-identical image.
import t from 'tap';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { objectStoreUnavailable, startObjectStore } from '../helpers/object-store.js';
import { deltaServer, sha256File } from './scenario.js';

const skip = objectStoreUnavailable();

t.test('a device rebuilds the release from ranges of pre-signed object-store URLs', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  // In this process the store reads the AWS_* variables as any AWS tool would.
  Object.assign(process.env, objects.env);
  const shared = await deltaServer(t, {
    devices: ['emu-0001'],
    server: { artifactStoreUrl: objects.storeUrl(), artifactDelivery: { mode: 'redirect', presignSeconds: 60 } },
  });
  const device = shared.device('emu-0001');
  const before = objects.seen.length;
  const output = await shared.runToCommit(device, 'emu-0001');
  t.equal(await sha256File(join(device.slots.b, 'image.bin')), await sha256File(shared.pair.new), 'the installed image is byte-identical');
  const full = statSync(shared.pair.new).size;
  t.match((await shared.plan()).delivery, { devices: 1, deltaDevices: 1 }, 'by delta');
  const fetched = Number(/delta: (\d+) of \d+ bytes downloaded/.exec(output)?.[1]);
  t.ok(fetched > 0 && fetched < full * 0.15, `downloaded ${fetched} of ${full} bytes`, { output });

  const presigned = objects.seen.slice(before).filter((request) => request.query.has('X-Amz-Signature'));
  const ranges = presigned.filter((request) => /^bytes=\d+-\d+$/.test(request.range ?? ''));
  t.ok(ranges.length > 10, `${ranges.length} Range requests went to the store's pre-signed URLs`);
  t.ok(
    ranges.every((request) => request.status === 206),
    'each answered 206',
  );
  const { chunkIndex, chunkPack } = JSON.parse(readFileSync(shared.manifestPath, 'utf8')).signed as Record<string, { sha256: string }>;
  const indexDigest = chunkIndex.sha256;
  t.ok(
    ranges.every((request) => request.path.endsWith(`/${chunkPack.sha256}`)),
    'the ranges are of the chunk pack (compressed chunks)',
  );
  t.ok(
    presigned.some((request) => request.path.endsWith(`/${indexDigest}`)),
    'the chunk index came from the store too',
  );
  t.ok(
    presigned.every((request) => request.authorization === null),
    'no bearer token reached the store',
  );
});
