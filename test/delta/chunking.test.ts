// The pieces of delta updates (docs/delta-updates.md): content-defined cuts that survive an
// insertion, the chunk index format and its refusals, the plan of copies and downloads, the
// manifest's chunkIndex field, and the server's chunk-index route (upload refusals, who may
// fetch it, start-up clean-up keeping it).
import t from 'tap';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chunker, defaultChunking } from '../../signing/chunking.js';
import { buildChunkIndex, chunkFile, parseChunkIndex, ChunkIndexError } from '../../signing/chunk-index.js';
import { ChunkPackError, packChunk, unpackChunk } from '../../signing/chunk-pack.js';
import { writeChunkPack } from '../../signing/chunk-pack-file.js';
import { brotliCompressSync } from 'node:zlib';
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

t.test('a file is chunked as its bytes are in memory, across reads, and a visitor that throws stops it', async (t) => {
  const path = join(directory, 'reads.bin');
  // Several reads of the file, the last one short: the next read runs while one is chunked.
  const data = randomBytes(1_800_001);
  writeFileSync(path, data);
  const seen: { offset: number; length: number; digest: string; same: boolean }[] = [];
  const result = await chunkFile(path, (offset, length, digest, bytes) =>
    seen.push({ offset, length, digest: digest.toString('hex'), same: bytes.equals(data.subarray(offset, offset + length)) }),
  );
  t.same(result, { sha256: sha256(data), size: data.length });
  const cuts = cutsOf(data);
  if (cuts.at(-1) !== data.length) cuts.push(data.length);
  t.same(
    seen.map((chunk) => chunk.offset + chunk.length),
    cuts,
    'the chunks of the whole buffer, in order',
  );
  t.ok(
    seen.every((chunk) => chunk.same && chunk.digest === sha256(data.subarray(chunk.offset, chunk.offset + chunk.length))),
    'each with its own bytes and SHA-256',
  );
  let calls = 0;
  await t.rejects(
    chunkFile(path, () => {
      if (++calls === 200) throw new Error('visitor stopped');
    }),
    /visitor stopped/,
  );
  t.equal(calls, 200, 'nothing visited after the throw');
});

t.test('an index describes the file, and a damaged one is refused', async (t) => {
  const path = join(directory, 'image.bin');
  const data = randomBytes(300 * 1024);
  writeFileSync(path, data);
  const built = await buildChunkIndex(path);
  t.equal(built.sha256, sha256(data));
  const index = parseChunkIndex(built.index, data.length);
  t.equal(index.offsets[index.count - 1] + index.lengths[index.count - 1], data.length);
  t.equal(
    index.digests.subarray(0, index.digestBytes).toString('hex'),
    sha256(data.subarray(0, index.lengths[0])).slice(0, index.digestBytes * 2),
  );
  t.equal(built.index.length, 44 + index.count * (4 + index.digestBytes), `${4 + index.digestBytes} bytes a chunk`);
  t.throws(() => parseChunkIndex(built.index, data.length + 1), ChunkIndexError, "a size other than the manifest's");
  t.throws(() => parseChunkIndex(built.index.subarray(0, built.index.length - 1)), ChunkIndexError, 'truncated');
  const bad = Buffer.from(built.index);
  bad.write('NOTSLUIC', 0, 'latin1');
  t.throws(() => parseChunkIndex(bad), ChunkIndexError, 'wrong magic');
  const inflated = Buffer.from(built.index);
  inflated.writeUInt16LE(0xffff, 44 + index.count * 2);
  t.throws(() => parseChunkIndex(inflated), ChunkIndexError, 'a chunk packed into more bytes than it has');
  const formatOne = Buffer.from(built.index);
  formatOne.writeUInt16LE(1, 8);
  t.throws(() => parseChunkIndex(formatOne), /has format 1; this agent reads 2/, 'format 1 is no longer read');
});

t.test('the pack holds every chunk compressed on its own where the index says; a zip bomb or a damaged chunk is refused', async (t) => {
  const path = join(directory, 'compressible.bin');
  // Text-like, noise and zeros, as in an image.
  const data = Buffer.concat([Buffer.from('config value = 42;\n'.repeat(20_000)), randomBytes(100 * 1024), Buffer.alloc(200 * 1024)]);
  writeFileSync(path, data);
  const built = await writeChunkPack(path, join(directory, 'compressible.pack'));
  const pack = readFileSync(join(directory, 'compressible.pack'));
  t.equal(built.pack.size, pack.length);
  t.equal(built.pack.sha256, sha256(pack));
  t.ok(pack.length < data.length / 2, `packed ${data.length} bytes into ${pack.length}`);
  const index = parseChunkIndex(built.index, data.length);
  const unpacked = [];
  let packedAlike = 0;
  for (let chunk = 0; chunk < index.count; chunk++) {
    const packed = pack.subarray(index.packOffsets[chunk], index.packOffsets[chunk] + index.packLengths[chunk]);
    unpacked.push(Buffer.from(unpackChunk(packed, index.lengths[chunk])));
    if (packChunk(unpacked[chunk]).equals(packed)) packedAlike++;
  }
  t.ok(Buffer.concat(unpacked).equals(data), 'the chunks unpack to the artifact');
  // The zeros and the repeated text are a few chunks many times over, each compressed once.
  t.equal(packedAlike, index.count, 'every chunk is packed as packing it alone packs it, repeated ones included');
  t.ok(
    index.packLengths.some((length, chunk) => length === index.lengths[chunk]),
    'noise is stored as it is',
  );
  const bomb = brotliCompressSync(Buffer.alloc(64 * 1024 * 1024));
  t.throws(() => unpackChunk(bomb, 4096), ChunkPackError, 'a stream that inflates past the signed length stops there');
  const first = pack.subarray(0, index.packLengths[0]);
  t.throws(() => unpackChunk(first.subarray(0, first.length - 2), index.lengths[0]), ChunkPackError, 'a cut stream');
  t.throws(() => unpackChunk(first, index.lengths[0] + 1), ChunkPackError, 'a stream shorter than the signed length');
});

t.test('a pack that would save less than 5 % is the artifact itself: no file, the index says every chunk is stored as it is', async (t) => {
  const path = join(directory, 'noise.bin');
  const data = Buffer.concat([randomBytes(600 * 1024), Buffer.from('a little text; '.repeat(1000))]);
  writeFileSync(path, data);
  const packPath = join(directory, 'noise.pack');
  writeFileSync(packPath, 'a pack of an earlier signing');
  const built = await writeChunkPack(path, packPath);
  t.same(built.pack, { sha256: sha256(data), size: data.length }, "the pack's digest and size are the artifact's");
  t.equal(built.packFile, null);
  t.notOk(existsSync(packPath), 'no pack file, and not the earlier one either');
  const index = parseChunkIndex(built.index, data.length);
  t.equal(index.packSize, data.length);
  t.same(Array.from(index.packLengths), Array.from(index.lengths), 'every chunk stored as it is');
  t.same(Array.from(index.packOffsets), Array.from(index.offsets), "so its ranges are the artifact's");
  const text = join(directory, 'text.bin');
  writeFileSync(text, Buffer.from('sensor = 1;\n'.repeat(60_000)));
  const packed = await writeChunkPack(text, join(directory, 'text.pack'));
  t.equal(packed.packFile, join(directory, 'text.pack'), 'text compresses: a pack of its own');
  t.ok(existsSync(join(directory, 'text.pack')));
});

t.test('the plan copies what the seed has, downloads the rest, and merges close downloads', async (t) => {
  // Fixed noise, not random: how many bytes a change costs depends on where the cuts fall around
  // it (up to three chunks of 16 KiB), and one random draw in a CI run cost 50 KiB.
  const noise = (key: number, length: number) =>
    createCipheriv('aes-128-ctr', Buffer.alloc(16, key), Buffer.alloc(16)).update(Buffer.alloc(length));
  const old = noise(1, 512 * 1024);
  const next = Buffer.from(old);
  noise(2, 100).copy(next, 100_000);
  noise(3, 100).copy(next, 400_000);
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
        piece.start === index.packOffsets[piece.first] &&
        piece.end === index.packOffsets[piece.last] + index.packLengths[piece.last] - 1 &&
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
  t.ok(share > 0.6, `a delta of the .gz pair would fetch ${(share * 100).toFixed(1)} % of it`);
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
  const chunkIndex = { sha256: 'b'.repeat(64), size: 36 };
  t.ok(validateManifestShape({ ...manifest, chunkIndex, chunkPack: { sha256: 'c'.repeat(64), size: 9 } }));
  t.throws(() => validateManifestShape({ ...manifest, chunkIndex, chunkPack: { sha256: 'c'.repeat(63), size: 9 } }), /chunkPack.sha256/);
  t.throws(() => validateManifestShape({ ...manifest, chunkPack: { sha256: 'c'.repeat(64), size: 9 } }), /needs a chunkIndex/);
});

t.test('the chunk-index and chunk-pack routes: refusals, order, who may fetch them, and the start-up clean-up keeps them', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  // Part text, so that the pack is not the artifact itself (all noise would be stored as it is).
  const artifact = Buffer.concat([randomBytes(100 * 1024), Buffer.from('sensor = 1;\n'.repeat(9000))]);
  writeFileSync(join(directory, 'release.bin'), artifact);
  const built = await writeChunkPack(join(directory, 'release.bin'), join(directory, 'release.pack'));
  const pack = readFileSync(join(directory, 'release.pack'));
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
      signDocument(
        { ...fields, version: '2.0.0', chunkIndex: { sha256: sha256(built.index), size: built.index.length }, chunkPack: built.pack },
        [server.keys.release],
      ),
      artifact,
    )
  ).json;
  const without = (
    await uploadRelease(server, fleet.tokens.release, signDocument({ ...fields, version: '2.0.1' }, [server.keys.release]), artifact)
  ).json;
  const put = (release: string, body: Buffer, token = fleet.tokens.release, route = 'chunk-index') =>
    server.app.inject({
      method: 'PUT',
      url: `/api/v1/releases/${release}/${route}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      payload: body,
    });
  const get = (release: string, token = fleet.tokens.support, route = 'chunk-index') =>
    server.app.inject({ method: 'GET', url: `/api/v1/releases/${release}/${route}`, headers: { authorization: `Bearer ${token}` } });

  t.equal((await get(withIndex.id)).json().error.code, 'chunk_index_unavailable', 'not uploaded yet');
  t.equal((await put(withIndex.id, built.index)).json().error.code, 'conflict', 'the index is taken only after its pack');
  const badPack = Buffer.from(pack);
  badPack[0] ^= 1;
  t.equal((await put(withIndex.id, badPack, fleet.tokens.release, 'chunk-pack')).json().error.code, 'digest_mismatch');
  t.equal((await put(without.id, pack, fleet.tokens.release, 'chunk-pack')).json().error.code, 'chunk_pack_not_signed');
  t.equal((await put(withIndex.id, pack, fleet.tokens.release, 'chunk-pack')).statusCode, 204, 'the pack');
  t.equal(
    (await get(withIndex.id, fleet.tokens.support, 'chunk-pack')).json().error.code,
    'chunk_pack_unavailable',
    'not before its index',
  );
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
  const range = await server.app.inject({
    method: 'GET',
    url: `/api/v1/releases/${withIndex.id}/chunk-pack`,
    headers: { authorization: `Bearer ${fleet.tokens.support}`, range: 'bytes=10-99' },
  });
  t.equal(range.statusCode, 206);
  t.ok(range.rawPayload.equals(pack.subarray(10, 100)), 'the pack is served in ranges');
  t.equal((await get(without.id)).json().error.code, 'chunk_index_unavailable', 'a release signed without one');
  const device = await fleet.addDevice('emu-0001');
  t.equal((await get(withIndex.id, device)).json().error.code, 'not_assigned', 'a device no plan assigns gets nothing');
  const audit = (await server.call('GET', '/api/v1/audit', fleet.tokens.admin)).json;
  t.equal(JSON.stringify(audit).split('release.chunk_index').length - 1, 1, 'the upload is audited once');
  t.equal(JSON.stringify(audit).split('release.chunk_pack').length - 1, 1, 'the pack too');
  const referenced = await server.app.sluice.store.releases.digests();
  t.ok(referenced.has(sha256(built.index)), 'start-up clean-up counts the index as referenced');
  t.ok(referenced.has(built.pack.sha256), 'and the pack');
});

t.test('a release whose pack is its artifact: the index is taken at once, and the pack is served from the artifact', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const artifact = randomBytes(300 * 1024);
  writeFileSync(join(directory, 'noise-release.bin'), artifact);
  const built = await writeChunkPack(join(directory, 'noise-release.bin'), join(directory, 'noise-release.pack'));
  t.equal(built.packFile, null, 'noise: the pack is the artifact');
  const manifest = signDocument(
    {
      type: 'release',
      product: 'emu',
      version: '3.0.0',
      hardware: ['emu-hw-1'],
      artifact: { name: 'emu.img', size: artifact.length, sha256: sha256(artifact) },
      fixes: [],
      notes: '',
      createdAt: '2026-11-01T00:00:00.000Z',
      chunkIndex: { sha256: sha256(built.index), size: built.index.length },
      chunkPack: built.pack,
    },
    [server.keys.release],
  );
  const release = (await uploadRelease(server, fleet.tokens.release, manifest, artifact)).json;
  const put = await server.app.inject({
    method: 'PUT',
    url: `/api/v1/releases/${release.id}/chunk-index`,
    headers: { authorization: `Bearer ${fleet.tokens.release}`, 'content-type': 'application/octet-stream' },
    payload: built.index,
  });
  t.equal(put.statusCode, 204, 'no pack to upload first: the artifact is stored');
  const range = await server.app.inject({
    method: 'GET',
    url: `/api/v1/releases/${release.id}/chunk-pack`,
    headers: { authorization: `Bearer ${fleet.tokens.support}`, range: 'bytes=1000-4999' },
  });
  t.equal(range.statusCode, 206);
  t.ok(range.rawPayload.equals(artifact.subarray(1000, 5000)), "the pack's ranges are the artifact's bytes");
});
