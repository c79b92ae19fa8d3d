// The S3 artifact store (issue 16) against a real S3 implementation (moto, helpers/object-store.ts):
// publishing streams a multipart upload under a temporary key and copies it to its sha256;
// downloads are streamed from the bucket or redirected to a pre-signed URL, with Range, and
// never hand the bearer token to the store; a refused or broken upload leaves no object and
// no multipart upload; bundles live in the bucket too; a second server on the same bucket
// and database finds everything; the filesystem-only modes are refused with S3.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { connect } from 'node:net';
import { once } from 'node:events';
import { request } from 'undici';
import { waitFor } from '../helpers/agent.js';
import { buildApp } from '../../server/app.js';
import type { ServerOptions } from '../../server/config.js';
import { startTestServer, seedFleet, signedManifest, uploadRelease, multipartBody, sha256, type TestServer } from '../helpers/server.js';
import { objectStoreUnavailable, startObjectStore, type ObjectStore } from '../helpers/object-store.js';
import { createBackup } from '../../server/storage/backup.js';
import { restoreBackup } from '../../server/storage/restore.js';

const skip = objectStoreUnavailable();
const megabytes = (count: number) => randomBytes(count * 1024 * 1024);

async function s3Server(t: Test, objects: ObjectStore, options: Partial<ServerOptions> = {}) {
  // In this process the store reads the AWS_* variables as any AWS tool would.
  Object.assign(process.env, objects.env);
  const server = await startTestServer(t, { artifactStoreUrl: objects.storeUrl(), ...options });
  return { server, fleet: await seedFleet(server) };
}

async function publish(server: TestServer, token: string, version: string, artifact: Buffer, bytes = artifact) {
  const manifest = signedManifest(artifact, { product: 'emu', version }, [server.keys.release]);
  return uploadRelease(server, token, manifest, bytes);
}

const artifactKey = (digest: string) => `sluice/artifacts/${digest.slice(0, 2)}/${digest}`;

t.test('publish: the artifact is one object under its sha256, nothing else is left', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  const { server, fleet } = await s3Server(t, objects);
  // 20 MiB: three parts of the multipart upload.
  const artifact = megabytes(20);
  const published = await publish(server, fleet.tokens.release, '2.0.0', artifact);
  t.equal(published.status, 201, JSON.stringify(published.json));
  t.same(await objects.keys(), [artifactKey(sha256(artifact))], 'one object, under its digest; no temporary key');
  t.same(await objects.multipartUploads(), [], 'no multipart upload left open');

  // The stream mode: the server reads the range from the bucket and sends it itself.
  const ranged = await server.app.inject({
    method: 'GET',
    url: `/api/v1/releases/${published.json.id}/artifact`,
    headers: { authorization: `Bearer ${fleet.tokens.support}`, range: 'bytes=1000-8388607' },
  });
  t.equal(ranged.statusCode, 206);
  t.equal(ranged.headers['content-range'], `bytes 1000-8388607/${artifact.length}`);
  t.ok(ranged.rawPayload.equals(artifact.subarray(1000, 8388608)), 'the range, byte for byte');
  const whole = await server.app.inject({
    method: 'GET',
    url: `/api/v1/releases/${published.json.id}/artifact`,
    headers: { authorization: `Bearer ${fleet.tokens.support}` },
  });
  t.equal(whole.statusCode, 200);
  t.equal(sha256(whole.rawPayload), sha256(artifact), 'the whole artifact');

  // The same bytes in a second release: one object still.
  const again = await publish(server, fleet.tokens.release, '2.0.1', artifact);
  t.equal(again.status, 201);
  t.same(await objects.keys(), [artifactKey(sha256(artifact))]);
});

t.test('refused and broken uploads leave no object and no multipart upload', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  const { server, fleet } = await s3Server(t, objects);
  const kept = megabytes(1);
  t.equal((await publish(server, fleet.tokens.release, '1.9.0', kept)).status, 201);
  const before = await objects.keys();

  const artifact = megabytes(20);
  const tampered = Buffer.from(artifact);
  tampered[12 * 1024 * 1024] ^= 1;
  const mismatch = await publish(server, fleet.tokens.release, '2.0.0', artifact, tampered);
  t.equal(mismatch.status, 422);
  t.equal(mismatch.json.error.code, 'digest_mismatch', 'the whole upload was sent, then refused');

  // Longer than the manifest: refused in the middle of the stream, with parts already sent.
  const tooLong = await publish(server, fleet.tokens.release, '2.0.1', artifact, Buffer.concat([artifact, megabytes(1)]));
  t.equal(tooLong.status, 422);
  t.equal(tooLong.json.error.code, 'size_mismatch');

  const short = await publish(server, fleet.tokens.release, '2.0.2', artifact, artifact.subarray(0, 15 * 1024 * 1024));
  t.equal(short.json.error.code, 'size_mismatch');

  t.same(await objects.keys(), before, 'only the release published before');
  t.same(await objects.multipartUploads(), [], 'every multipart upload was aborted');
  t.equal((await server.call('GET', '/api/v1/releases', fleet.tokens.support)).json.length, 1, 'no release row either');
});

t.test('an upload cut off by its client mid-stream leaves no object and no multipart upload', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  const { server, fleet } = await s3Server(t, objects);
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const artifact = megabytes(24);
  const manifest = signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]);
  const { payload, contentType } = multipartBody([
    { name: 'manifest', filename: 'manifest.json', content: JSON.stringify(manifest) },
    { name: 'artifact', filename: 'image.bin', content: artifact },
  ]);
  const { host, port } = new URL(url);
  const socket = connect(Number(port), host.split(':')[0]);
  await once(socket, 'connect');
  socket.write(
    `POST /api/v1/releases HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${fleet.tokens.release}\r\nContent-Type: ${contentType}\r\nContent-Length: ${payload.length}\r\n\r\n`,
  );
  // Two parts' worth and more, so that the multipart upload has begun, then the cut.
  socket.write(payload.subarray(0, 18 * 1024 * 1024));
  await waitFor(async () => (await objects.multipartUploads()).length > 0, 'the multipart upload to begin', 30_000, 100);
  socket.destroy();
  await waitFor(async () => (await objects.multipartUploads()).length === 0, 'the multipart upload to be aborted', 30_000, 100);
  t.same(await objects.keys(), [], 'no object');
  t.equal((await server.call('GET', '/api/v1/releases', fleet.tokens.support)).json.length, 0, 'no release');
});

t.test('a store slow to complete a large upload does not get the answer cut off by the stall timeout', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  const { server, fleet } = await s3Server(t, objects, { requestTimeoutSeconds: 1 });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  objects.faults.delayCompleteMs = 2500;
  const artifact = megabytes(9);
  const { payload, contentType } = multipartBody([
    {
      name: 'manifest',
      filename: 'manifest.json',
      content: JSON.stringify(signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release])),
    },
    { name: 'artifact', filename: 'image.bin', content: artifact },
  ]);
  const response = await request(`${url}/api/v1/releases`, {
    method: 'POST',
    body: payload,
    headers: { authorization: `Bearer ${fleet.tokens.release}`, 'content-type': contentType },
  });
  t.equal(response.statusCode, 201, 'answered after the store took longer than the stall timeout');
  await response.body.dump();
  t.same(await objects.keys(), [artifactKey(sha256(artifact))]);
});

t.test('redirect delivery: a 307 to a pre-signed URL without the token; Range goes to the store; HEAD stays here', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  const { server, fleet } = await s3Server(t, objects, { artifactDelivery: { mode: 'redirect', presignSeconds: 60 } });
  const artifact = megabytes(6);
  const published = await publish(server, fleet.tokens.release, '2.0.0', artifact);
  t.equal(published.status, 201);
  const url = `/api/v1/releases/${published.json.id}/artifact`;
  const auth = { authorization: `Bearer ${fleet.tokens.support}` };

  const redirect = await server.app.inject({ method: 'GET', url, headers: { ...auth, range: 'bytes=5000000-' } });
  t.equal(redirect.statusCode, 307);
  t.equal(redirect.headers['cache-control'], 'no-store', 'nobody caches a URL meant for one client');
  const location = new URL(String(redirect.headers.location));
  t.equal(location.origin, objects.url, 'the object store');
  t.equal(location.searchParams.get('X-Amz-Expires'), '60', 'expires as configured');
  t.notMatch(location.toString(), fleet.tokens.support, 'no bearer token in the URL');

  const fromStore = await fetch(location, { headers: { range: 'bytes=5000000-' } });
  t.equal(fromStore.status, 206);
  t.ok(Buffer.from(await fromStore.arrayBuffer()).equals(artifact.subarray(5000000)), 'the range, from the store');
  const presigned = objects.seen.filter((request) => request.query.has('X-Amz-Signature'));
  t.same(
    presigned.map((request) => [request.authorization, request.range]),
    [[null, 'bytes=5000000-']],
  );

  const head = await server.app.inject({ method: 'HEAD', url, headers: auth });
  t.equal(head.statusCode, 200, 'HEAD is answered by the server (a pre-signed URL is for GET)');
  t.equal(head.headers['content-length'], String(artifact.length));
  t.equal(head.headers.etag, `"${sha256(artifact)}"`);
  const notModified = await server.app.inject({ method: 'GET', url, headers: { ...auth, 'if-none-match': `"${sha256(artifact)}"` } });
  t.equal(notModified.statusCode, 304, 'a client that has it gets 304, not a redirect');
  const unsatisfiable = await server.app.inject({ method: 'GET', url, headers: { ...auth, range: `bytes=${artifact.length}-` } });
  t.equal(unsatisfiable.statusCode, 416, 'an impossible range is refused here, with the error shape');
});

t.test('diagnostics bundles are stored in the bucket and downloaded from it', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  const { server, fleet } = await s3Server(t, objects);
  const deviceToken = await fleet.addDevice('emu-0001');
  const session = (
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, { device: 'emu-0001', reason: 'logs', collect: ['logs'] })
  ).json;
  t.equal((await server.call('POST', `/api/v1/support-sessions/${session.id}/consent`, fleet.tokens.customer, {})).status, 200);
  const bundle = gzipSync(Buffer.from(JSON.stringify({ logs: 'x'.repeat(100_000) })));
  const { payload, contentType } = multipartBody([{ name: 'bundle', filename: 'bundle.json.gz', content: bundle }]);
  const uploaded = await server.app.inject({
    method: 'POST',
    url: `/api/v1/device/diagnostics/${session.id}`,
    headers: { authorization: `Bearer ${deviceToken}`, 'content-type': contentType },
    payload,
  });
  t.equal(uploaded.statusCode, 204, uploaded.body);
  t.same(await objects.keys(), [`sluice/bundles/${session.id}.gz`], 'the bundle, under its session; no temporary key');
  const downloaded = await server.app.inject({
    method: 'GET',
    url: `/api/v1/support-sessions/${session.id}/bundle`,
    headers: { authorization: `Bearer ${fleet.tokens.support}` },
  });
  t.equal(downloaded.statusCode, 200);
  t.ok(downloaded.rawPayload.equals(bundle), 'the same bytes');
  const second = await server.app.inject({
    method: 'POST',
    url: `/api/v1/device/diagnostics/${session.id}`,
    headers: { authorization: `Bearer ${deviceToken}`, 'content-type': contentType },
    payload,
  });
  t.equal(second.statusCode, 403, 'one bundle per session: the consent was used');
  t.same(await objects.keys(), [`sluice/bundles/${session.id}.gz`], 'the refused second upload left nothing');
});

t.test('a second server on the same bucket and database finds the artifacts; DDI digests are read from the bucket', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  const { server, fleet } = await s3Server(t, objects);
  const artifact = megabytes(2);
  const published = await publish(server, fleet.tokens.release, '2.0.0', artifact);
  t.equal(published.status, 201);
  const other = mkdtempSync(join(tmpdir(), 'sluice-s3-other-'));
  t.teardown(() => rmSync(other, { recursive: true, force: true }));
  // The database is the first server's (its SQLite file, or its PostgreSQL database); the data directory is not.
  await server.close();
  const second = await buildApp({
    dataDir: other,
    databaseUrl: server.databaseUrl ?? `sqlite:${join(server.dataDir, 'sluice.db')}`,
    trustRootPath: join(server.dataDir, 'keys', 'root.json'),
    serverKeyPath: join(server.dataDir, 'keys', 'server.key'),
    artifactStoreUrl: objects.storeUrl(),
  });
  t.teardown(() => second.close());
  const downloaded = await second.inject({
    method: 'GET',
    url: `/api/v1/releases/${published.json.id}/artifact`,
    headers: { authorization: `Bearer ${fleet.tokens.support}` },
  });
  t.equal(downloaded.statusCode, 200);
  t.equal(sha256(downloaded.rawPayload), sha256(artifact), 'the bytes, from the bucket');
  t.same(await objects.keys(), [artifactKey(sha256(artifact))], 'start-up recovery kept the referenced object');
  const { legacyDigestsOf } = await import('../../server/services/legacy-digests.js');
  const release = (await second.sluice.store.releases.get(published.json.id))!;
  const digests = await legacyDigestsOf(second.sluice, { ...release, sha1: '', md5: '' });
  t.match(digests, { sha1: /^[0-9a-f]{40}$/, md5: /^[0-9a-f]{32}$/ }, 'SHA-1 and MD5 for DDI clients, from the stored object');
});

t.test('what the S3 store cannot do is refused at start-up, with the way out', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  Object.assign(process.env, objects.env);
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-s3-refused-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  await t.rejects(
    buildApp({
      dataDir,
      artifactStoreUrl: objects.storeUrl(),
      artifactDelivery: { mode: 'x-accel-redirect', internalPrefix: '/protected' },
    }),
    /--x-accel-prefix hands files to nginx.*--artifact-delivery redirect/,
  );
  await t.rejects(
    buildApp({ dataDir, artifactDelivery: { mode: 'redirect', presignSeconds: 300 } }),
    /pre-signed URLs, which need an object store: add --artifact-store s3:\/\//,
  );
  await t.rejects(
    buildApp({ dataDir, artifactStoreUrl: 's3://no-such-bucket/sluice' }),
    /s3:\/\/no-such-bucket\/sluice does not answer: no such bucket/,
  );
  await t.rejects(
    buildApp({ dataDir, artifactStoreUrl: 'https://example.invalid/bucket' }),
    /--artifact-store must be s3:\/\/BUCKET\/PREFIX/,
  );
  await t.rejects(createBackup({ dataDir, out: join(dataDir, 'backup'), includeKeys: false, artifactStoreUrl: objects.storeUrl() }), {
    code: 'artifacts_in_object_store',
    message: /back up the bucket with the provider's tools/,
  });
  await t.rejects(
    restoreBackup({
      from: join(dataDir, 'backup'),
      dataDir: join(dataDir, 'restored'),
      force: false,
      artifactStoreUrl: objects.storeUrl(),
    }),
    { code: 'artifacts_in_object_store', message: /the bucket's objects with the provider's tools/ },
  );
  t.notOk(existsSync(join(dataDir, 'backup')) || existsSync(join(dataDir, 'restored')), 'neither wrote anything');
});
