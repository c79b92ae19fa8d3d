// The pieces of delta updates (docs/delta-updates.md): content-defined cuts that survive an
// insertion, the chunk index format and its refusals, the plan of copies and downloads, the
// manifest's chunkIndex field, and the server's chunk-index route (upload refusals, who may
// fetch it, start-up clean-up keeping it).
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chunker, defaultChunking } from '../../signing/chunking.js';
import { buildChunkIndex, parseChunkIndex, ChunkIndexError } from '../../signing/chunk-index.js';
import { validateManifestShape } from '../../signing/manifest.js';
import { planOperations, bytesToFetch } from '../../client/delta/plan.js';
import { seedByChunking } from '../../client/delta/seed.js';
import { piecesOf } from '../../client/delta/range-queue.js';
import { buildDeltaImages } from '../../fixtures/delta-images.js';
import { testImageMiB } from './scenario.js';
import { startTestServer, seedFleet, uploadRelease } from '../helpers/server.js';
import { signDocument } from '../../signing/signed.js';

const directory = mkdtempSync(join(tmpdir(), 'sluice-chunking-'));
t.teardown(() => rmSync(directory, { recursive: true, force: true }));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function cutsOf(data: Buffer, pieces = 1): number[] {
  const chunker = new Chunker();
  const cuts: number[] = [];
  const step = Math.ceil(data.length / pieces);
  for (let at = 0; at < data.length; at += step) for (const cut of chunker.cuts(data.subarray(at, at + step))) cuts.push(at + cut);
  return cuts;
}

t.test('cuts depend on content, not on how the bytes arrive, and resynchronise after an insertion', async (t) => {
  const data = randomBytes(2 * 1024 * 1024);
  const whole = cutsOf(data);
  t.same(cutsOf(data, 37), whole, 'the same cuts whatever the buffers');
  const lengths = whole.map((cut, index) => cut - (whole[index - 1] ?? 0));
  t.ok(
    lengths.every((length) => length >= defaultChunking.minSize && length <= defaultChunking.maxSize),
    'every chunk within the bounds',
  );
  const average = data.length / whole.length;
  t.ok(average > 3000 && average < 6500, `average ${Math.round(average)} bytes near 4 KiB`);
  const inserted = Buffer.concat([data.subarray(0, 1000), randomBytes(333), data.subarray(1000)]);
  const shifted = new Set(cutsOf(inserted).map((cut) => cut - 333));
  const kept = whole.filter((cut) => shifted.has(cut)).length;
  t.ok(kept >= whole.length - 3, `${kept} of ${whole.length} cuts found again after 333 bytes were inserted`);
});

t.test('an index describes the file, and a damaged one is refused', async (t) => {
  const path = join(directory, 'image.bin');
  const data = randomBytes(300 * 1024);
  writeFileSync(path, data);
  const built = await buildChunkIndex(path);
  t.equal(built.sha256, sha256(data));
  const index = parseChunkIndex(built.index, data.length);
  t.equal(index.offsets[index.count - 1] + index.lengths[index.count - 1], data.length);
  t.equal(index.digests.subarray(0, 32).toString('hex'), sha256(data.subarray(0, index.lengths[0])));
  t.throws(() => parseChunkIndex(built.index, data.length + 1), ChunkIndexError, "a size other than the manifest's");
  t.throws(() => parseChunkIndex(built.index.subarray(0, built.index.length - 1)), ChunkIndexError, 'truncated');
  const bad = Buffer.from(built.index);
  bad.write('NOTSLUIC', 0, 'latin1');
  t.throws(() => parseChunkIndex(bad), ChunkIndexError, 'wrong magic');
  const zero = Buffer.from(built.index);
  zero.writeUInt32LE(0, 36);
  t.throws(() => parseChunkIndex(zero), ChunkIndexError, 'a chunk of zero bytes');
});

t.test('the plan copies what the seed has, downloads the rest, and merges close downloads', async (t) => {
  const old = randomBytes(512 * 1024);
  const next = Buffer.from(old);
  randomBytes(100).copy(next, 100_000);
  randomBytes(100).copy(next, 400_000);
  writeFileSync(join(directory, 'old.bin'), old);
  writeFileSync(join(directory, 'next.bin'), next);
  const index = parseChunkIndex((await buildChunkIndex(join(directory, 'next.bin'))).index);
  const seed = await seedByChunking(join(directory, 'old.bin'), index.parameters);
  const operations = planOperations(index, seed, 0, 0);
  t.equal(operations.filter((operation) => operation.kind === 'fetch').length, 2, 'two changed places, two ranges');
  t.ok(bytesToFetch(operations) < 40 * 1024, `${bytesToFetch(operations)} bytes to download`);
  t.equal(
    operations.reduce((sum, operation) => sum + (operation.kind === 'copy' ? operation.length : operation.end - operation.start + 1), 0),
    next.length,
    'the operations cover the image once',
  );
  t.equal(
    planOperations(index, seed, 0, 1 << 20).filter((operation) => operation.kind === 'fetch').length,
    1,
    'with a large gap allowed, one range',
  );
  t.same(
    planOperations(index, null).map((operation) => operation.kind),
    ['fetch'],
    'no seed: one range for everything',
  );
});

t.test('downloads are cut into pieces of whole chunks, at most the buffer size, covering the plan exactly', async (t) => {
  const data = randomBytes(3 * 1024 * 1024);
  writeFileSync(join(directory, 'pieces.bin'), data);
  const index = parseChunkIndex((await buildChunkIndex(join(directory, 'pieces.bin'))).index);
  const operations = planOperations(index, null);
  const pieces = [...piecesOf(operations, index, 256 * 1024)];
  t.ok(pieces.length >= 12, `${pieces.length} pieces for 3 MiB`);
  t.ok(
    pieces.every((piece) => piece.end - piece.start + 1 <= 256 * 1024),
    'none longer than a buffer',
  );
  t.ok(
    pieces.every(
      (piece, at) =>
        piece.start === index.offsets[piece.first] &&
        piece.end === index.offsets[piece.last] + index.lengths[piece.last] - 1 &&
        (at === 0 ? piece.first === 0 : piece.first === pieces[at - 1].last + 1),
    ),
    'in order, chunk after chunk, each bounded by its chunks',
  );
  t.equal(pieces.at(-1)!.last, index.count - 1, 'up to the last chunk');
});

t.test('the compressed pair: a delta would fetch most of it; the same change uncompressed, a few per cent', async (t) => {
  const images = await buildDeltaImages(testImageMiB);
  const index = parseChunkIndex((await buildChunkIndex(images.compressed.new)).index);
  const seed = await seedByChunking(images.compressed.old, index.parameters);
  const share = bytesToFetch(planOperations(index, seed)) / index.size;
  // Above 90 % the agent takes the full download instead (no_saving, client/delta/delta-download.ts).
  t.ok(share > 0.85, `a delta of the .gz pair would fetch ${(share * 100).toFixed(1)} % of it`);
  const plain = parseChunkIndex((await buildChunkIndex(images.ext4.new)).index);
  const plainShare = bytesToFetch(planOperations(plain, await seedByChunking(images.ext4.old, plain.parameters))) / plain.size;
  t.ok(plainShare < 0.1, `the same change uncompressed: ${(plainShare * 100).toFixed(1)} %`);
});

t.test("the manifest's chunkIndex is checked, and old manifests without one stay valid", async (t) => {
  const manifest = {
    type: 'release',
    product: 'emu',
    version: '2.0.0',
    hardware: ['emu-hw-1'],
    artifact: { name: 'a.img', size: 1, sha256: 'a'.repeat(64) },
    fixes: [],
    notes: '',
    createdAt: '2026-11-01T00:00:00.000Z',
  };
  t.ok(validateManifestShape(manifest));
  t.ok(validateManifestShape({ ...manifest, chunkIndex: { sha256: 'b'.repeat(64), size: 36 } }));
  t.throws(() => validateManifestShape({ ...manifest, chunkIndex: { sha256: 'B'.repeat(64), size: 36 } }), /chunkIndex.sha256/);
  t.throws(() => validateManifestShape({ ...manifest, chunkIndex: { sha256: 'b'.repeat(64), size: 0 } }), /chunkIndex.size/);
});

t.test('the chunk-index route: refusals, who may fetch it, and the start-up clean-up keeps it', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const artifact = randomBytes(200 * 1024);
  writeFileSync(join(directory, 'release.bin'), artifact);
  const built = await buildChunkIndex(join(directory, 'release.bin'));
  const fields = {
    type: 'release',
    product: 'emu',
    hardware: ['emu-hw-1'],
    artifact: { name: 'emu.img', size: artifact.length, sha256: sha256(artifact) },
    fixes: [],
    notes: '',
    createdAt: '2026-11-01T00:00:00.000Z',
  };
  const withIndex = (
    await uploadRelease(
      server,
      fleet.tokens.release,
      signDocument({ ...fields, version: '2.0.0', chunkIndex: { sha256: sha256(built.index), size: built.index.length } }, [
        server.keys.release,
      ]),
      artifact,
    )
  ).json;
  const without = (
    await uploadRelease(server, fleet.tokens.release, signDocument({ ...fields, version: '2.0.1' }, [server.keys.release]), artifact)
  ).json;
  const put = (release: string, body: Buffer, token = fleet.tokens.release) =>
    server.app.inject({
      method: 'PUT',
      url: `/api/v1/releases/${release}/chunk-index`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      payload: body,
    });
  const get = (release: string, token = fleet.tokens.support) =>
    server.app.inject({ method: 'GET', url: `/api/v1/releases/${release}/chunk-index`, headers: { authorization: `Bearer ${token}` } });

  t.equal((await get(withIndex.id)).json().error.code, 'chunk_index_unavailable', 'not uploaded yet');
  const tampered = Buffer.from(built.index);
  tampered[tampered.length - 1] ^= 1;
  t.equal((await put(withIndex.id, tampered)).json().error.code, 'digest_mismatch');
  t.equal((await put(withIndex.id, Buffer.concat([built.index, Buffer.alloc(1)]))).json().error.code, 'size_mismatch');
  t.equal((await put(without.id, built.index)).json().error.code, 'chunk_index_not_signed');
  t.equal((await put(withIndex.id, built.index, fleet.tokens.support)).statusCode, 403, 'only the release role uploads');
  t.equal((await put(withIndex.id, built.index)).statusCode, 204);
  t.equal((await put(withIndex.id, built.index)).statusCode, 204, 'again: harmless');
  const fetched = await get(withIndex.id);
  t.equal(fetched.statusCode, 200);
  t.ok(fetched.rawPayload.equals(built.index), 'staff get the bytes');
  t.equal((await get(without.id)).json().error.code, 'chunk_index_unavailable', 'a release signed without one');
  const device = await fleet.addDevice('emu-0001');
  t.equal((await get(withIndex.id, device)).json().error.code, 'not_assigned', 'a device no plan assigns gets nothing');
  const audit = (await server.call('GET', '/api/v1/audit', fleet.tokens.admin)).json;
  t.equal(JSON.stringify(audit).split('release.chunk_index').length - 1, 1, 'the upload is audited once');
  t.ok((await server.app.sluice.store.releases.digests()).has(sha256(built.index)), 'start-up clean-up counts the index as referenced');
});
